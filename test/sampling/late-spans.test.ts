// Lab 2, bad input: spans that reach the sampler after their trace was decided (a slow
// exporter, a consumer far behind, decision_wait set too short). sampler.yaml keeps a cache of
// recent decisions: a late span follows its trace's decision instead of starting a new trace.
// The lesson of the last test: the decision is final, so decision_wait must cover the slowest
// span's delay, or a late error is lost.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startSamplingLab, type SamplingLab } from '../../scripts/sampling/lab.js';
import { byTrace } from '../../scripts/runtime/orders.js';
import { waitForDecisions, type TraceIds } from '../../scripts/sampling/report.js';

/** One span of an existing trace, as OTLP/JSON, sent to the LB tier like any service would. */
async function sendLateSpan(lbHttp: string, traceId: string, opts: { name: string; error: boolean }) {
  const spanId = randomBytes(8).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'late-reporter' } }] },
        scopeSpans: [
          {
            scope: { name: 'otel-lab-late-spans' },
            spans: [
              {
                traceId,
                spanId,
                name: opts.name,
                kind: 1,
                startTimeUnixNano: String(now - 5_000_000n),
                endTimeUnixNano: String(now),
                status: { code: opts.error ? 2 : 0 },
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(`${lbHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`LB refused the late span: HTTP ${res.status} ${await res.text()}`);
  return spanId;
}

// Each test stands alone on the start-up's traffic: one late span to a kept trace, the other to
// a dropped one (and its marker to another kept trace), so neither sees the other's span.
describe('spans arriving after their trace was decided', () => {
  useLab();
  let lab: SamplingLab;
  let ids: TraceIds;

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2 });
    ids = await lab.traffic(60, { mix: { ok: 50, error: 50, slow: 0 } });
    await waitForDecisions(lab.topology, 60);
  });

  const lateCounts = async () => {
    const all = await Promise.all(lab.topology.samplers.map((s) => s.metrics()));
    return { kept: all.reduce((n, m) => n + m.lateSpansKept, 0), dropped: all.reduce((n, m) => n + m.lateSpansDropped, 0) };
  };

  it('a late span of a KEPT trace is exported at once and joins the trace in the store', async () => {
    const keptError = ids.error[0];
    expect(byTrace(lab.topology.capture.spans()).has(keptError)).toBe(true);
    const before = await lateCounts();
    const spanId = await sendLateSpan(lab.topology.entrypoints[1], keptError, { name: 'late but kept', error: false });
    const span = await lab.topology.capture.waitForSpans((s) => s.find((x) => x.spanId === spanId), 'the late span of a kept trace');
    expect(span.traceId).toBe(keptError);
    expect((await lateCounts()).kept).toBeGreaterThan(before.kept);
  });

  it('a late span of a DROPPED trace is dropped, even an ERROR: a too short decision_wait loses errors', async () => {
    const stored = byTrace(lab.topology.capture.spans());
    const droppedOk = ids.ok.find((id) => !stored.has(id));
    expect(droppedOk, 'an ok trace the samplers dropped').toBeDefined();
    const before = await lateCounts();
    const spanId = await sendLateSpan(lab.topology.entrypoints[1], droppedOk!, { name: 'late error', error: true });
    // The sampler counts it as a late span of a dropped trace: then we know it was processed...
    await waitFor(async () => (await lateCounts()).dropped > before.dropped, { what: 'the samplers to count the late span as dropped' });
    // ...and a kept trace's late span sent after it comes out, so the pipeline has flushed past it.
    const marker = await sendLateSpan(lab.topology.entrypoints[1], ids.error[1], { name: 'marker', error: false });
    await lab.topology.capture.waitForSpans((s) => s.some((x) => x.spanId === marker), 'the marker span');
    const out = lab.topology.capture.spans();
    expect(out.some((s) => s.spanId === spanId)).toBe(false);
    expect(out.some((s) => s.traceId === droppedOk)).toBe(false);
  });
});
