// Lab 2, head sampling: the gateway's SDK decides at the first span, before anything has
// happened (OTEL_TRACES_SAMPLER=parentbased_traceidratio), every service downstream follows
// the decision carried in the trace context, and the collector (agent.yaml) just forwards.
// Cheap and complete, but blind: an error is kept only as often as any other trace.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrafficResult } from '../../scripts/traffic/index.js';
import { useLab } from '../support/lab.js';
import { startHeadSamplingLab, type HeadSamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, binomialBounds, CATEGORIES, formatReport, settleTraces, type SamplingReport } from '../../scripts/sampling/report.js';

const ratio = 0.25;

describe('head sampling in the SDK (parentbased_traceidratio)', () => {
  useLab();
  let lab: HeadSamplingLab;
  let traffic: TrafficResult;
  let report: SamplingReport;

  beforeAll(async () => {
    lab = await startHeadSamplingLab(ratio);
    traffic = await lab.traffic(200, { rate: 25, mix: { ok: 60, error: 30, slow: 10 } });
    expect(traffic.failed, JSON.stringify(traffic.failures.slice(0, 3))).toBe(0);
    // No decision point downstream: wait for the sampled traces' last spans to come through.
    await settleTraces(() => lab.capture.spans(), traffic.sampledByHead);
    report = analyse(lab.capture.spans(), traffic.traceIds);
    console.log(formatReport(`head sampling at ${ratio}`, report));
  });

  it('keeps exactly the traces the gateway sampled at their first span (traceresponse flag)', () => {
    const inStore = new Set(lab.capture.spans().map((s) => s.traceId));
    for (const c of CATEGORIES) {
      const kept = traffic.traceIds[c].filter((id) => inStore.has(id));
      expect(new Set(kept), `${c} traces kept`).toEqual(new Set(traffic.sampledByHead[c]));
    }
  });

  it(`keeps error traces only at the head ratio (${ratio}): most errors are lost`, () => {
    const errors = report.categories.error;
    const [low, high] = binomialBounds(errors.sent, ratio);
    console.log(`errors sent ${errors.sent}, kept ${errors.kept} (${((100 * errors.kept) / errors.sent).toFixed(0)} %), expected ${low}..${high}`);
    expect(errors.kept).toBeGreaterThanOrEqual(low);
    expect(errors.kept).toBeLessThanOrEqual(high);
    expect(errors.sent - errors.kept).toBeGreaterThan(errors.sent / 2);
  });

  it('keeps what it keeps complete (every span of each kept trace, per service): every service follows the decision in the trace context', () => {
    for (const c of CATEGORIES) expect(report.categories[c].incomplete, `${c} traces`).toEqual({});
    expect(report.categories.ok.kept + report.categories.slow.kept).toBeGreaterThan(0);
  });
});
