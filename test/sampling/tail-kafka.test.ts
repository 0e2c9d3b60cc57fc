// Lab 2, tail sampling with Kafka in the middle: services → 2 LB collectors (kafka exporter,
// message key = trace id) → one topic, 4 partitions → 2 samplers in one consumer group →
// capture. Same guarantees as the direct topology, and Kafka holds what the samplers have not
// read yet: a stopped sampler tier resumes from the group's committed offsets.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import type { Topology } from '../../scripts/sampling/topology.js';
import { startSamplingLab, TEST_SAMPLER_ENV, underTraffic, type SamplingLab } from '../../scripts/sampling/lab.js';
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
import { spanCount } from '../../scripts/runtime/orders.js';

const keepShare = Number(TEST_SAMPLER_ENV.KEEP_PERCENT) / 100;

async function expectTailGuarantees(topology: Topology, report: SamplingReport) {
  for (const c of ['error', 'slow'] as const) {
    expect(report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
    expect(report.categories[c].incomplete, `incomplete ${c} traces (complete = exactly the ${spanCount(c)} spans per service)`).toEqual({});
    expect(report.categories[c].complete, `complete ${c} traces`).toBe(report.categories[c].sent);
  }
  // Kept ok traces ~ Binomial(n, KEEP_PERCENT) over the n the probabilistic policy alone decided
  // (its hash of random trace ids); mean ± 4 sd, see tail-direct. Most ok traces must be among
  // the n, or a keep-slow that kept them all would pass with n = 0.
  const share = await okShare(topology, report);
  const [low, high] = binomialBounds(share.n, keepShare);
  console.log(`ok: ${share.kept} of ${share.n} kept by the ${keepShare * 100} % policy (bounds ${low}..${high}); ${share.keptAsSlow} more kept as slow`);
  expect(share.n, 'ok traces the probabilistic policy alone decided').toBeGreaterThanOrEqual(report.categories.ok.sent / 2);
  expect(share.kept).toBeGreaterThanOrEqual(low);
  expect(share.kept).toBeLessThanOrEqual(high);
  expect(report.categories.ok.incomplete).toEqual({});
  expect(report.split).toEqual({});
  // Without lab.sampler on every span, `split` could not see a trace decided on two samplers.
  expect(report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
}

// The tests share one topology and run in order: each needs the sampler tier as the one before
// left it (every sampler running and in the group), and the traffic of the ones before decided.
describe('tail sampling with Kafka between the LB tier and the samplers (one topology, tests in order)', () => {
  useLab();
  let lab: SamplingLab;
  let first: TraceIds;
  const sent = 150;

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'kafka', samplers: 2, lbs: 2 });
    first = await lab.traffic(sent);
    await waitForDecisions(lab.topology, sent);
  });

  /** Fails, naming the culprit, when an earlier test left a sampler stopped or its traffic undecided. */
  async function requireTierAsLeft(by: string) {
    const stopped = lab.topology.samplers.filter((s) => s.collector.process.exit).map((s) => s.id);
    if (stopped.length) throw new Error(`needs every sampler running, as ${by} leaves them; stopped: ${stopped.join(', ')}`);
    const lag = await lab.topology.lag();
    if (lag) throw new Error(`needs the topic consumed, as ${by} leaves it; Kafka lag ${lag}`);
  }

  it('keeps 100 % of error and slow traces complete, the configured share of ok traces, each trace on one sampler', async () => {
    const report = analyse(lab.topology.capture.spans(), first);
    console.log(formatReport('tail sampling, Kafka in the middle', report, await samplerLines(lab.topology)));
    await expectTailGuarantees(lab.topology, report);
    const metrics = await Promise.all(lab.topology.samplers.map((s) => s.metrics()));
    expect(metrics.reduce((n, m) => n + m.decided, 0)).toBe(metrics.reduce((n, m) => n + m.received, 0));
    expect(metrics.reduce((n, m) => n + m.kept, 0)).toBe(report.keptTraces);
    // Both consumers own partitions and decide a share: each trace id goes to one partition (the
    // key's hash), and 4 partitions over 2 consumers are 2 each, so a sampler decides
    // Binomial(sent, 1/2) traces; mean ± 4 sd (at 150: 51..99).
    const [low, high] = binomialBounds(sent, 1 / metrics.length);
    for (const m of metrics) {
      expect(m.decided, `traces one sampler decided (${low}..${high})`).toBeGreaterThanOrEqual(low);
      expect(m.decided, `traces one sampler decided (${low}..${high})`).toBeLessThanOrEqual(high);
    }
    const byLb = await lab.topology.spansAcceptedByLb();
    lab.topology.lbs.forEach((lb, i) => expect(byLb[i], `spans accepted by ${lb.name}`).toBeGreaterThan(0));
  });

  it('loses no trace while the sampler tier is down: Kafka holds the spans, the group resumes from its committed offsets', async () => {
    const { topology } = lab;
    await requireTierAsLeft('the start-up (beforeAll)');
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
    await requireTierAsLeft("the previous test (it restarts the samplers it stopped)");
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
    for (const c of ['error', 'slow'] as const) {
      expect(report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
      expect(report.categories[c].kept, `${c} traces kept`).toBe(report.categories[c].sent);
    }
  }, 180_000);
});
