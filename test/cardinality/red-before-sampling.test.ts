// Lab 6, RED metrics and sampling: spanmetrics in the LB tier (it sees every span) counts what
// the services' own counters count; the same connector after the tail samplers counts only the
// kept traces: every error, every slow order, the configured share of the rest, so its request
// rate is too low and its error rate too high, by the factor the sampler's policies predict.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { binomialBounds, CATEGORIES, okShare } from '../../scripts/sampling/report.js';
import { formatRed, measureRed, RED_SERVICES, startRedLab, type RedLab, type RedReport } from '../../scripts/cardinality/red.js';

describe('RED metrics computed before the tail sampler are right; after it they are not', () => {
  useLab();
  let lab: RedLab;
  let report: RedReport;
  const orders = 100;

  beforeAll(async () => {
    lab = await startRedLab();
    report = await measureRed(lab, orders, { rate: 20, mix: { ok: 80, error: 10, slow: 10 } });
    console.log(formatRed(report));
  });

  it("before the sampler, span-derived requests and errors equal each service's own counters", () => {
    for (const svc of RED_SERVICES) {
      const s = report.services[svc];
      expect(s.own.requests, `${svc}: requests it counted`).toBe(orders);
      expect(s['before-sampling'].requests, `${svc}: requests from spans, before the sampler`).toBe(s.own.requests);
      expect(s['before-sampling'].errors, `${svc}: errors from spans, before the sampler`).toBe(s.own.errors);
    }
    expect(report.services.gateway.own.errors).toBe(report.sent.error);
  });

  it('after the sampler, the span-derived requests are the kept traces: every error, the share of the ok', () => {
    const kept = CATEGORIES.reduce((n, c) => n + report.sampling.categories[c].kept, 0);
    expect(report.sampling.categories.error.kept).toBe(report.sent.error);
    for (const svc of RED_SERVICES) {
      const s = report.services[svc];
      expect(s['after-sampling'].requests, `${svc}: requests from spans, after the sampler = kept traces`).toBe(kept);
      expect(s['after-sampling'].errors, `${svc}: errors from spans, after the sampler`).toBe(s.own.errors);
      expect(s['after-sampling'].requests, `${svc}: fewer than it answered`).toBeLessThan(s.own.requests);
    }
  });

  it('after the sampler the request count is off by the factor the policies predict (errors + slow + ~20 % of ok)', async () => {
    const share = await okShare(lab.topology, report.sampling);
    const [low, high] = binomialBounds(share.n, report.keepPercent / 100);
    const always = report.sent.error + report.sent.slow + share.keptAsSlow;
    const g = report.services.gateway;
    const ratio = g['after-sampling'].requests / g.own.requests;
    console.log(`after/before = ${ratio.toFixed(2)}; predicted ${(always + low) / orders}..${(always + high) / orders}`);
    expect(ratio).toBeGreaterThanOrEqual((always + low) / orders);
    expect(ratio).toBeLessThanOrEqual((always + high) / orders);
    // So the error rate computed after the sampler is inflated, by at least orders / (always + high).
    const errorRate = (c: { errors: number; requests: number }) => c.errors / c.requests;
    expect(errorRate(g['after-sampling'])).toBeGreaterThanOrEqual((errorRate(g.own) * orders) / (always + high) - 1e-9);
    expect(errorRate(g['after-sampling'])).toBeGreaterThan(errorRate(g.own));
  });

  it('duration: before the sampler the mean matches the services\' own histograms; after it (every slow trace kept) it is inflated', () => {
    for (const svc of RED_SERVICES) {
      const s = report.services[svc];
      const tolerance = Math.max(5, 0.1 * s.own.meanMs);
      expect(Math.abs(s['before-sampling'].meanMs - s.own.meanMs), `${svc}: mean ms from spans ${s['before-sampling'].meanMs.toFixed(1)} vs own ${s.own.meanMs.toFixed(1)}`).toBeLessThanOrEqual(tolerance);
    }
    const g = report.services.gateway;
    expect(g['after-sampling'].meanMs, 'gateway mean ms after the sampler').toBeGreaterThan(1.5 * g['before-sampling'].meanMs);
  });
});
