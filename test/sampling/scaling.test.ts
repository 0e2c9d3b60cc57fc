// Lab 2, the talk's open problem: adding a sampler while traffic flows. Direct topology: the
// LB tier's sampler list changes (every LB restarts with the new list) and ~1/3 of the trace
// ids get a new owner. Kafka topology: the LB tier is untouched; the consumer group hands
// partitions to the new sampler. A trace in flight at the moment of the change can reach two
// samplers and be decided twice, each time on part of it. Measured per topology from the
// samplers' own counters (trace ids taken in, summed over samplers, minus the traces sent)
// and from the exported data (kept traces whose spans came from two samplers), and reported.
import { describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { addSamplerUnderTraffic, SAMPLER_ENV, startSamplingLab } from '../../scripts/sampling/lab.js';
import type { TopologyKind } from '../../scripts/sampling/topology.js';
import { analyse, formatReport, samplerLines } from '../../scripts/sampling/report.js';

const orders = 300;
const rate = 20;

async function scaleUp(kind: TopologyKind) {
  const lab = await startSamplingLab({ kind, samplers: 2, lbs: 2 });
  const lbPids = lab.topology.lbs.map((lb) => lb.process.pid);
  const run = await addSamplerUnderTraffic(lab, orders, { rate });
  const report = analyse(lab.topology.capture.spans(), run.ids);
  const incomplete = (['error', 'slow'] as const).reduce((n, c) => n + report.categories[c].sent - report.categories[c].complete, 0);
  console.log(
    formatReport(`adding a third sampler mid-run, ${kind} (${run.sent} orders at ${rate}/s)`, report, [
      ...(await samplerLines(lab.topology)),
      `traces that reached two samplers (decided twice): ${run.decidedTwice}`,
      `error+slow traces not kept complete: ${incomplete}`,
    ]),
  );
  // The split read from the exported data, not only from counters: it must be visible
  // (every span names its sampler), and no larger than the traces the counters say were
  // decided twice; a split trace is one trace shared by exactly two samplers.
  expect(report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
  const split = Object.values(report.split);
  expect(split.length).toBeLessThanOrEqual(run.decidedTwice);
  for (const samplers of split) expect(samplers).toHaveLength(2);
  return { lab, lbPids, split, ...run };
}

describe('adding a sampler mid-run', () => {
  useLab();

  it('direct: every LB must restart with the new list, and traces in flight are decided on two samplers', async () => {
    const { lab, lbPids, added, decidedTwice, split } = await scaleUp('direct');
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).not.toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    expect(decidedTwice).toBeGreaterThan(0);
    // The hash ring moves trace ids only to the new sampler: while the LBs restart one by one,
    // a moved trace goes to its old owner from one LB and to the new sampler from the other.
    for (const samplers of split) expect(samplers, 'the samplers of a split trace').toContain(added.id);
  }, 240_000);

  it('kafka: the LB tier is untouched, the consumer group hands partitions to the new sampler', async () => {
    const { lab, lbPids, added, split, decidedTwice } = await scaleUp('kafka');
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    // A split comes only from the rebalance: the LB tier never changed, so before it and after
    // it each partition has one reader. Traces in flight when partitions moved are the most
    // that can split: at most rate × decision_wait of them (a trace is held that long).
    const inFlight = rate * Number.parseFloat(SAMPLER_ENV.DECISION_WAIT);
    expect(decidedTwice).toBeLessThanOrEqual(inFlight);
    console.log(`kafka: ${split.length} split traces in the exported data, ${decidedTwice} decided twice (at most ${inFlight} in flight)`);
  }, 240_000);
});
