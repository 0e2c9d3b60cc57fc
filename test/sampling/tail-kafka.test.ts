// Lab 2, tail sampling with Kafka in the middle: services → 2 LB collectors (kafka exporter,
// message key = trace id) → one topic, 4 partitions → 2 samplers in one consumer group →
// capture. Same guarantees as the direct topology, and Kafka holds what the samplers have not
// read yet: a stopped sampler tier resumes from the group's committed offsets.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import type { Topology } from '../../scripts/sampling/topology.js';
import { startSamplingLab, SAMPLER_ENV, underTraffic, type SamplingLab } from '../../scripts/sampling/lab.js';
import {
  analyse,
  binomialBounds,
  formatReport,
  okShare,
  samplerLines,
  waitForDecisions,
  type SamplingReport,
  type TraceIds,
} from '../../scripts/sampling/report.js';

const keepShare = Number(SAMPLER_ENV.KEEP_PERCENT) / 100;

async function expectTailGuarantees(topology: Topology, report: SamplingReport) {
  for (const c of ['error', 'slow'] as const) {
    expect(report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
    expect(report.categories[c].incomplete, `incomplete ${c} traces`).toEqual({});
    expect(report.categories[c].complete, `complete ${c} traces`).toBe(report.categories[c].sent);
  }
  const share = await okShare(topology, report);
  const [low, high] = binomialBounds(share.n, keepShare);
  console.log(`ok: ${share.kept} of ${share.n} kept by the ${keepShare * 100} % policy (bounds ${low}..${high}); ${share.keptAsSlow} more kept as slow`);
  expect(share.kept).toBeGreaterThanOrEqual(low);
  expect(share.kept).toBeLessThanOrEqual(high);
  expect(report.categories.ok.incomplete).toEqual({});
  // Every exported span names its sampler, so "no split" is a finding, not a blind spot.
  expect(report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
  expect(report.split).toEqual({});
}

describe('tail sampling with Kafka between the LB tier and the samplers', () => {
  useLab();
  let lab: SamplingLab;
  let first: TraceIds;

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'kafka', samplers: 2, lbs: 2 });
    first = await lab.traffic(150);
    await waitForDecisions(lab.topology, 150);
  });

  it('keeps 100 % of error and slow traces complete, the configured share of ok traces, each trace on one sampler', async () => {
    const report = analyse(lab.topology.capture.spans(), first);
    console.log(formatReport('tail sampling, Kafka in the middle', report, await samplerLines(lab.topology)));
    await expectTailGuarantees(lab.topology, report);
    const metrics = await Promise.all(lab.topology.samplers.map((s) => s.metrics()));
    expect(metrics.reduce((n, m) => n + m.decided, 0)).toBe(metrics.reduce((n, m) => n + m.received, 0));
    expect(metrics.reduce((n, m) => n + m.kept, 0)).toBe(report.keptTraces);
    // Both consumers own 2 of the 4 partitions, and trace ids hash evenly over partitions: each
    // decides about half. At the least a quarter (one partition's worth), 4 sigma below it.
    const [atLeast] = binomialBounds(150, 1 / 4);
    for (const m of metrics) expect(m.decided).toBeGreaterThanOrEqual(atLeast);
    // The services are split over the LB tier (gateway, orders to one; payments, fulfillment to
    // the other): each LB instance takes spans in.
    for (const [i, n] of (await lab.topology.spansAcceptedPerLb()).entries()) expect(n, `spans accepted by lb-${i + 1}`).toBeGreaterThan(0);
  });

  it('loses no trace while the sampler tier is down: Kafka holds the spans, the group resumes from its committed offsets', async () => {
    const { topology } = lab;
    const keptBefore = topology.capture.spans().length;
    for (let i = 0; i < topology.samplers.length; i++) await topology.stopSampler(i);

    const whileDown = await lab.traffic(100);
    // The LB tier keeps writing: the spans wait in Kafka, unread by the stopped group.
    const lag = await topology.lag();
    expect(lag).toBeGreaterThan(0);
    expect(topology.capture.spans().length).toBe(keptBefore);

    for (let i = 0; i < topology.samplers.length; i++) await topology.startSampler(i);
    await topology.waitForConsumers();
    await waitForDecisions(topology, 100);
    expect(await topology.lag()).toBe(0);

    const report = analyse(topology.capture.spans(), whileDown);
    console.log(formatReport(`sent while the samplers were down (Kafka lag reached ${lag} messages)`, report, await samplerLines(topology)));
    await expectTailGuarantees(topology, report);
  }, 180_000);

  it('loses no error or slow trace when one sampler restarts mid-run: its partitions go to the other and come back', async () => {
    const { topology } = lab;
    const run = await underTraffic(lab, 200, { rate: 20 }, [
      [1 / 3, () => topology.stopSampler(1)],
      [2 / 3, async () => {
        await topology.startSampler(1);
        await topology.waitForConsumers();
      }],
    ]);
    const report = analyse(topology.capture.spans(), run.ids);
    console.log(
      formatReport('sampler-2 restarted mid-run', report, [
        ...(await samplerLines(topology)),
        `traces that reached two samplers (decided twice): ${run.decidedTwice}`,
      ]),
    );
    // Kept: the part holding the error (or the long spans) is kept wherever it was decided.
    // Complete: not asserted; a trace whose partition moved mid-read can be split (reported).
    for (const c of ['error', 'slow'] as const) expect(report.categories[c].kept, `${c} traces kept`).toBe(report.categories[c].sent);
  }, 180_000);
});
