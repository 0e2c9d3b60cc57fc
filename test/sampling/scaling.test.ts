// Lab 2, the talk's open problem: adding a sampler while traffic flows. Direct topology: the
// LB tier's sampler list changes (every LB restarts with the new list) and ~1/3 of the trace
// ids get a new owner. Kafka topology: the LB tier is untouched; the consumer group hands
// partitions to the new sampler. A trace in flight at the moment of the change can reach two
// samplers and be decided twice, each time on part of it. Measured per topology from the
// samplers' own counters (trace ids taken in, summed over samplers, minus the traces sent)
// and from the exported data (kept traces whose spans carry two lab.sampler values).
import { describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { addSamplerUnderTraffic, startSamplingLab, TEST_SAMPLER_ENV } from '../../scripts/sampling/lab.js';
import type { TopologyKind } from '../../scripts/sampling/topology.js';
import { analyse, CATEGORIES, formatReport, samplerLines } from '../../scripts/sampling/report.js';

const orders = 300;
const rate = 20;

async function scaleUp(kind: TopologyKind) {
  const lab = await startSamplingLab({ kind, samplers: 2, lbs: 2 });
  const lbPids = lab.topology.lbs.map((lb) => lb.process.pid);
  const run = await addSamplerUnderTraffic(lab, orders, { rate });
  const report = analyse(lab.topology.capture.spans(), run.ids);
  const incomplete = (['error', 'slow'] as const).reduce((n, c) => n + report.categories[c].sent - report.categories[c].complete, 0);
  const split = Object.entries(report.split);
  // Kept traces missing spans: decided on two samplers, one part kept and the other dropped.
  const partlyKept = CATEGORIES.flatMap((c) => Object.keys(report.categories[c].incomplete));
  console.log(
    formatReport(`adding a third sampler mid-run, ${kind} (${run.sent} orders at ${rate}/s)`, report, [
      ...(await samplerLines(lab.topology)),
      `traces that reached two samplers (decided twice): ${run.decidedTwice}`,
      `error+slow traces not kept complete: ${incomplete}`,
      `kept traces exported by two samplers: ${split.map(([id, s]) => `${id.slice(0, 8)}=${s.join('+')}`).join(' ') || 'none'}`,
      `kept traces missing spans: ${partlyKept.length}`,
    ]),
  );
  return { lab, lbPids, report, split, partlyKept, ...run };
}

/**
 * What the exported data says about the traces the counters saw decided twice. Each one shows
 * up as kept by two samplers (both parts kept: an ok trace both hash-keep, an error with an
 * ERROR span in both parts), as kept with spans missing (one part kept), or not at all (both
 * parts dropped); a trace decided once shows as neither (tail-direct, tail-kafka). So the two
 * together are at most the counters' count, and the split ones name the sampler that joined:
 * the LB's hash ring and the consumer group both move trace ids only to the new member. How
 * many show depends on where the change falls (3 to 5 decided twice at 20/s, 0 to 2 of them
 * visible, in our runs), so it is bounded, not required.
 */
function expectSplitExplained(run: Awaited<ReturnType<typeof scaleUp>>) {
  expect(run.split.length + run.partlyKept.length, 'kept traces split or missing spans, at most the traces decided twice').toBeLessThanOrEqual(
    run.decidedTwice,
  );
  for (const [id, samplers] of run.split) expect(samplers, `samplers of split trace ${id}`).toContain(run.added.id);
}

/** What every run must show before its split says anything: each LB got spans, each span says who decided it. */
async function expectMeasurable(lab: Awaited<ReturnType<typeof scaleUp>>['lab'], unstamped: number) {
  // Counters of the LB instances now running (direct: since their restart with the new list).
  const byLb = await lab.topology.spansAcceptedByLb();
  lab.topology.lbs.forEach((lb, i) => expect(byLb[i], `spans accepted by ${lb.name}`).toBeGreaterThan(0));
  // Without lab.sampler on every span, a split trace would look decided by one sampler.
  expect(unstamped, 'exported spans without lab.sampler').toBe(0);
}

describe('adding a sampler mid-run', () => {
  useLab();

  it('direct: every LB must restart with the new list, and traces in flight are decided, and exported, by two samplers', async () => {
    const run = await scaleUp('direct');
    const { lab, lbPids, added, decidedTwice, report } = run;
    await expectMeasurable(lab, report.unstampedSpans);
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).not.toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    // The LBs restart one after the other, and every order's spans cross both: a moved trace
    // id in flight meanwhile has its spans sent to its old owner and to the new sampler.
    expect(decidedTwice, 'traces the samplers took in twice').toBeGreaterThan(0);
    expectSplitExplained(run);
  }, 240_000);

  it('kafka: the LB tier is untouched, the consumer group hands partitions to the new sampler; only traces in flight at the handover split', async () => {
    const run = await scaleUp('kafka');
    const { lab, lbPids, added, decidedTwice, report } = run;
    await expectMeasurable(lab, report.unstampedSpans);
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    // A trace splits only if its spans straddle the point where a moved partition changes
    // hands: some read by the old owner, the rest (or a re-read of the uncommitted tail) by the
    // new one. All spans of a trace reach Kafka within decision_wait of its first one (the
    // premise of sampler.yaml, and the uncommitted tail, ~1 s of auto-commit, is shorter), so only
    // traces started in the last decision_wait before the handover can straddle it: at most
    // rate × decision_wait of them, whichever partitions moved. Whether any did depends on
    // where the handover falls (the talk's open problem): bounded here, not required. Spans of a
    // trace spread over partitions (no trace-id key) would split far more than this.
    const inFlight = rate * Number.parseFloat(TEST_SAMPLER_ENV.DECISION_WAIT);
    expect(decidedTwice, `traces the samplers took in twice, at most the ${inFlight} in flight`).toBeLessThanOrEqual(inFlight);
    expectSplitExplained(run);
  }, 240_000);
});
