// Lab 6, from a metric to its trace: the agent's spanmetrics connector attaches exemplars (trace
// and span id) to its duration histogram; Prometheus stores them (exemplar storage) and gives
// them back through /api/v1/query_exemplars; Jaeger has the trace, and the span is the one the
// series describes.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startKafka } from '../../scripts/runtime/kafka.js';
import { formatExemplars, spanmetricsLabels, startExemplarLab, traceExemplars, type ExemplarReport } from '../../scripts/cardinality/exemplars.js';

describe('exemplars lead from a Prometheus series to the trace in Jaeger', () => {
  useLab();
  let report: ExemplarReport;

  beforeAll(async () => {
    const lab = await startExemplarLab(await startKafka('kafka-exemplars'));
    report = await traceExemplars(lab, 20);
    console.log(formatExemplars(report));
  });

  it('Prometheus gives back exemplars for the ok and for the error series of the gateway', () => {
    const statuses = new Set(report.resolved.map((r) => r.exemplar.seriesLabels.status_code));
    expect([...statuses].sort()).toEqual(['STATUS_CODE_ERROR', 'STATUS_CODE_UNSET']);
  });

  it("each exemplar's trace id is one the gateway answered with, and Jaeger holds that trace", () => {
    const sent = new Set(Object.values(report.sent).flat());
    for (const r of report.resolved) {
      expect(sent.has(r.traceId), `trace ${r.traceId} was sent`).toBe(true);
      expect(r.trace.length, `spans of ${r.traceId} in Jaeger`).toBeGreaterThan(0);
    }
  });

  it("the span an exemplar names matches its series' labels: service, span name, kind, status, duration", () => {
    for (const r of report.resolved) {
      expect(r.span, `span ${r.exemplar.labels.span_id} of trace ${r.traceId}`).toBeDefined();
      expect(r.mismatches, `trace ${r.traceId}`).toEqual([]);
      const { service_name, span_name, span_kind, status_code } = r.exemplar.seriesLabels;
      expect(spanmetricsLabels(r.span!)).toEqual({ service_name, span_name, span_kind, status_code });
    }
  });
});
