// Lab 2, tail sampling, direct: services → 2 LB collectors (loadbalancing exporter, routing
// by trace id) → 2 samplers (tail_sampling) → capture. The talk's promise of tail sampling:
// every interesting trace is kept, whole, and the boring ones at the configured share.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startSamplingLab, TEST_SAMPLER_ENV, type SamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, binomialBounds, formatReport, okShare, samplerLines, waitForDecisions, type SamplingReport, type TraceIds } from '../../scripts/sampling/report.js';
import { spanCount } from '../../scripts/runtime/orders.js';

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

  it(`keeps 100 % of the error traces, each complete: every span from every service (exactly ${spanCount('error')} spans, per service)`, () => {
    const r = report.categories.error;
    expect(r.sent).toBeGreaterThan(0);
    expect(r.incomplete).toEqual({});
    expect(r.complete).toBe(r.sent);
  });

  it(`keeps 100 % of the slow traces, each complete (exactly ${spanCount('slow')} spans, per service)`, () => {
    const r = report.categories.slow;
    expect(r.sent).toBeGreaterThan(0);
    expect(r.incomplete).toEqual({});
    expect(r.complete).toBe(r.sent);
  });

  it('keeps the configured share of the ok traces (binomial, 4 sigma), complete', async () => {
    const share = await okShare(lab.topology, report);
    // The probabilistic policy hashes the trace id, and the ids are random: of the n ok traces
    // it alone decided (those sent, minus those kept for being slow), the number kept is
    // Binomial(n, KEEP_PERCENT). Mean ± 4 sd: a false failure once in ~16 000 runs; at n ≈ 140
    // and 20 % that is 9..47, which a policy at 50 % (or 5 %) fails.
    const [low, high] = binomialBounds(share.n, Number(TEST_SAMPLER_ENV.KEEP_PERCENT) / 100);
    console.log(`ok: ${share.kept} of ${share.n} kept by the ${TEST_SAMPLER_ENV.KEEP_PERCENT} % policy (bounds ${low}..${high}); ${share.keptAsSlow} more kept as slow`);
    // The bound means something only if the policy decided most ok traces (an ok trace is well
    // under SLOW_TRACE_MS unless the machine lags): if keep-slow kept them all, n = 0 and 0..0 passes.
    expect(share.n, 'ok traces the probabilistic policy alone decided').toBeGreaterThanOrEqual(report.categories.ok.sent / 2);
    expect(share.kept).toBeGreaterThanOrEqual(low);
    expect(share.kept).toBeLessThanOrEqual(high);
    expect(report.categories.ok.incomplete).toEqual({});
  });

  it('every LB instance receives spans, and every exported span names the sampler that decided it', async () => {
    // The services send to both LBs (lab.ts), so both must take spans for the routing to be tested.
    const byLb = await lab.topology.spansAcceptedByLb();
    lab.topology.lbs.forEach((lb, i) => expect(byLb[i], `spans accepted by ${lb.name}`).toBeGreaterThan(0));
    // Without lab.sampler, a trace decided on two samplers could not show as split below.
    expect(report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
  });

  it('decides every trace on exactly one sampler, and both samplers share the work', async () => {
    expect(report.split).toEqual({});
    const metrics = await Promise.all(lab.topology.samplers.map((s) => s.metrics()));
    // The samplers' own counters agree with what came out: one decision per trace id...
    const received = metrics.reduce((n, m) => n + m.received, 0);
    const decided = metrics.reduce((n, m) => n + m.decided, 0);
    const kept = metrics.reduce((n, m) => n + m.kept, 0);
    expect(decided).toBe(received);
    expect(kept).toBe(report.keptTraces);
    // ...and each sampler got a share of the trace ids. Not binomial at 1/2: each sampler's
    // share is its arcs of the LB's hash ring, placed by hashing its endpoint (random ports), so
    // uneven; a tenth says "both work", and fails if one sampler is never routed to.
    for (const m of metrics) expect(m.decided).toBeGreaterThan(sent / 10);
  });
});
