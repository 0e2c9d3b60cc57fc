// Lab 2, bad input at every front door: malformed and odd OTLP/HTTP requests sent to the agent
// (agent.yaml), an LB (lb.yaml) and a sampler (sampler.yaml) while orders flow through the
// direct topology. Each door refuses what it cannot decode with a 4xx and the collector's own
// message, nothing crashes, and the traffic around it comes out exactly as without them.
import { beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startSamplingLab, type SamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, formatReport, samplerLines, waitForDecisions, type TraceIds } from '../../scripts/sampling/report.js';
import { badInputs, askEveryDoor, formatDoorTable, type DoorAnswer } from '../../scripts/sampling/bad-input.js';
import { spanCount } from '../../scripts/runtime/orders.js';
import { CATEGORIES } from '../../scripts/traffic/mix.js';

/** What each door answers: the same OTLP receiver is every door, so one table. */
const EXPECTED: Record<string, { status: number; message?: RegExp }> = {
  'truncated protobuf': { status: 400, message: /proto|unexpected EOF|cannot parse/i },
  'invalid JSON': { status: 400, message: /ReadObject: expect/ },
  'wrong content type (text/plain)': { status: 415 },
  'empty body, protobuf': { status: 200 },
  'empty body, JSON': { status: 400, message: /ReadObject: expect/ },
  'oversized body (21 MiB)': { status: 400, message: /too large/i },
  'trace id of 15 bytes, JSON': { status: 400, message: /length|trace/i },
  'trace id of 17 bytes, protobuf': { status: 400, message: /length|trace|proto/i },
  'trace id all zeros': { status: 200 },
  '10,000 attributes on one span': { status: 200 },
};

describe('bad input at the agent, the LB and the sampler', () => {
  useLab();
  let lab: SamplingLab;
  let agent: Collector;
  let answers: Record<string, DoorAnswer[]>;
  let ids: TraceIds;
  let acceptedBefore: number;

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2 });
    const { capture } = lab.topology;
    agent = await startCollector({ config: 'collector/agent.yaml', env: { TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: capture.otlpHttp } });
    acceptedBefore = await lab.topology.spansAcceptedSettled();
    // The bad requests go in while the orders flow.
    [ids, answers] = await Promise.all([
      lab.traffic(60),
      askEveryDoor({ agent: agent.otlpHttp, 'lb-1': lab.topology.lbs[0].otlpHttp, 'sampler-1': lab.topology.samplers[0].collector.otlpHttp }),
    ]);
    console.log(formatDoorTable(answers));
  });

  it('each door refuses what it cannot decode with a 4xx naming the problem, and takes the well-formed odd ones', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(badInputs().map((b) => b.name).sort());
    for (const [door, list] of Object.entries(answers)) {
      for (const a of list) {
        const want = EXPECTED[a.input];
        expect(a.status, `${door}: ${a.input} (answered: ${a.message})`).toBe(want.status);
        if (want.message) expect(a.message, `${door}: ${a.input}`).toMatch(want.message);
      }
    }
  });

  it('no door crashed, and the orders around the bad input came out as without it (every span accepted once, error and slow kept complete)', async () => {
    for (const c of [agent, ...lab.topology.lbs, ...lab.topology.samplers.map((s) => s.collector)]) expect(c.process.exit, `${c.name} exited`).toBeUndefined();
    const made = CATEGORIES.reduce((n, c) => n + ids[c].length * spanCount(c), 0);
    const acceptedBad = badInputs().reduce((n, b) => n + (EXPECTED[b.name].status === 200 ? b.spans : 0), 0);
    await waitForDecisions(lab.topology, 60);
    // lb-1 took the accepted odd spans on top of the orders' spans: nothing more, nothing less.
    expect((await lab.topology.spansAccepted()) - acceptedBefore, 'spans the LB tier accepted').toBe(made + acceptedBad);
    const report = analyse(lab.topology.capture.spans(), ids);
    console.log(formatReport('orders sent while the bad input went in', report, await samplerLines(lab.topology)));
    for (const c of ['error', 'slow'] as const) {
      expect(report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
      expect(report.categories[c].complete, `${c} traces kept complete`).toBe(report.categories[c].sent);
    }
    expect(report.split).toEqual({});
  });
});
