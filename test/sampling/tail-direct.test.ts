// Lab 2, tail sampling, direct: services → 2 LB collectors (loadbalancing exporter, routing
// by trace id) → 2 samplers (tail_sampling) → capture. The talk's promise of tail sampling:
// every interesting trace is kept, whole, and the boring ones at the configured share.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startSamplingLab, SAMPLER_ENV, type SamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, binomialBounds, formatReport, okShare, samplerLines, waitForDecisions, type SamplingReport, type TraceIds } from '../../scripts/sampling/report.js';

describe('tail sampling behind a load-balancing tier (direct)', () => {
  useLab();
  let lab: SamplingLab;
  let ids: TraceIds;
  let report: SamplingReport;
  const sent = 200;

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2 });
    ids = await lab.traffic(sent);
    await waitForDecisions(lab.topology, sent);
    report = analyse(lab.topology.capture.spans(), ids);
    console.log(formatReport('tail sampling, direct', report, await samplerLines(lab.topology)));
  });

  it('keeps 100 % of the error traces, each complete: every span from every service', () => {
    const r = report.categories.error;
    expect(r.sent).toBeGreaterThan(0);
    expect(r.incomplete).toEqual({});
    expect(r.complete).toBe(r.sent);
  });

  it('keeps 100 % of the slow traces, each complete', () => {
    const r = report.categories.slow;
    expect(r.sent).toBeGreaterThan(0);
    expect(r.incomplete).toEqual({});
    expect(r.complete).toBe(r.sent);
  });

  it('keeps the configured share of the ok traces (binomial, 4 sigma), complete', async () => {
    const share = await okShare(lab.topology, report);
    const [low, high] = binomialBounds(share.n, Number(SAMPLER_ENV.KEEP_PERCENT) / 100);
    console.log(`ok: ${share.kept} of ${share.n} kept by the ${SAMPLER_ENV.KEEP_PERCENT} % policy (bounds ${low}..${high}); ${share.keptAsSlow} more kept as slow`);
    expect(share.kept).toBeGreaterThanOrEqual(low);
    expect(share.kept).toBeLessThanOrEqual(high);
    expect(report.categories.ok.incomplete).toEqual({});
  });

  it('decides every trace on exactly one sampler, and both samplers share the work', async () => {
    // Every exported span names its sampler, so "no split" is a finding, not a blind spot.
    expect(report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
    expect(report.split).toEqual({});
    // Each LB instance takes spans in (the services are split over the tier).
    for (const [i, n] of (await lab.topology.spansAcceptedPerLb()).entries()) expect(n, `spans accepted by lb-${i + 1}`).toBeGreaterThan(0);
    const metrics = await Promise.all(lab.topology.samplers.map((s) => s.metrics()));
    // The samplers' own counters agree with what came out: one decision per trace id...
    const received = metrics.reduce((n, m) => n + m.received, 0);
    const decided = metrics.reduce((n, m) => n + m.decided, 0);
    const kept = metrics.reduce((n, m) => n + m.kept, 0);
    expect(decided).toBe(received);
    expect(kept).toBe(report.keptTraces);
    // ...and each sampler got a share of the trace ids.
    for (const m of metrics) expect(m.decided).toBeGreaterThan(sent / 10);
  });
});
