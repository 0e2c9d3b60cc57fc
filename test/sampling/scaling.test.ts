// Lab 2, the talk's open problem: adding a sampler while traffic flows. Direct topology: the
// LB tier's sampler list changes (every LB restarts with the new list) and ~1/3 of the trace
// ids get a new owner. Kafka topology: the LB tier is untouched; the consumer group hands
// partitions to the new sampler. A trace in flight at the moment of the change can reach two
// samplers and be decided twice, each time on part of it. Measured per topology from the
// samplers' own counters (trace ids taken in, summed over samplers, minus the traces sent)
// and from the exported data (kept traces whose spans came from two samplers), and reported.
import { describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { addSamplerUnderTraffic, startSamplingLab } from '../../scripts/sampling/lab.js';
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
  return { lab, lbPids, ...run };
}

describe('adding a sampler mid-run', () => {
  useLab();

  it('direct: every LB must restart with the new list, and traces in flight are decided on two samplers', async () => {
    const { lab, lbPids, added, decidedTwice } = await scaleUp('direct');
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).not.toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    expect(decidedTwice).toBeGreaterThan(0);
  }, 240_000);

  it('kafka: the LB tier is untouched, the consumer group hands partitions to the new sampler', async () => {
    const { lab, lbPids, added } = await scaleUp('kafka');
    expect(lab.topology.lbs.map((lb) => lb.process.pid)).toEqual(lbPids);
    expect((await added.metrics()).decided).toBeGreaterThan(0);
    // How many traces a moved partition split is reported above, not asserted: it is the
    // talk's open problem, and with Kafka it depends on where the rebalance falls.
  }, 240_000);
});
