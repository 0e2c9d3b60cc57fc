// Lab 6, part 2: from a metric to the trace behind it. The agent computes RED metrics from the
// spans it forwards (collector/agent.yaml + collector/spanmetrics.yaml); their duration
// histogram carries exemplars: the trace and span id of spans it counted. Prometheus (with
// --enable-feature=exemplar-storage) takes them in through its OTLP receiver and answers
// /api/v1/query_exemplars; the trace id leads to the trace in Jaeger, whose span must be the
// one the series describes (service, span name, kind, status).
//
// Why this path: the JS metrics SDK (sdk-metrics 3.1) records no exemplars, and prom-client's
// OpenMetrics exemplars would need code in every service and the scrape path; the spanmetrics
// connector needs no service change, and its exemplars come from the very spans Jaeger stores.
import { startCollector, type Collector } from '../runtime/collector.js';
import { startJaeger, type Jaeger } from '../runtime/jaeger.js';
import type { Kafka } from '../runtime/kafka.js';
import type { Span } from '../runtime/otlp.js';
import { queryExemplars, startPrometheus, type Exemplar, type Prometheus } from '../runtime/prometheus.js';
import { startServices, type Services } from '../runtime/services.js';
import { waitFor } from '../runtime/wait.js';
import { runTraffic } from '../traffic/run.js';

/** What spanmetrics' duration histogram (unit ms) becomes in Prometheus. */
export const DURATION_BUCKETS = 'traces_span_metrics_duration_milliseconds_bucket';
export const CALLS = 'traces_span_metrics_calls_total';
export const SPANMETRICS_OVERLAY = 'collector/spanmetrics.yaml';

/** A Prometheus that stores exemplars, with no scrape jobs: only what is sent to it. */
export function startExemplarPrometheus(name: string): Promise<Prometheus> {
  return startPrometheus({ name, configYaml: 'global:\n  scrape_interval: 15s\n', extraArgs: ['--enable-feature=exemplar-storage'] });
}

export interface ExemplarLab {
  prometheus: Prometheus;
  jaeger: Jaeger;
  agent: Collector;
  services: Services;
}

export async function startExemplarLab(kafka: Kafka): Promise<ExemplarLab> {
  const [prometheus, jaeger] = await Promise.all([startExemplarPrometheus('prometheus-exemplars'), startJaeger()]);
  const agent = await startCollector({
    config: ['collector/agent.yaml', SPANMETRICS_OVERLAY],
    name: 'agent-spanmetrics',
    env: {
      TRACES_EXPORT_ENDPOINT: jaeger.otlpGrpc,
      METRICS_EXPORT_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
      SPANMETRICS_FLUSH_INTERVAL: '1s',
    },
  });
  const services = await startServices({
    name: 'services-exemplars',
    kafkaBootstrap: kafka.bootstrap,
    otlpEndpoint: agent.otlpHttp,
    topic: 'orders-exemplars',
    // Spans leave within 200 ms; the services' own metrics are not part of this story.
    env: { all: { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRICS_EXPORTER: 'none' } },
  });
  return { prometheus, jaeger, agent, services };
}

/** One exemplar read back, and what Jaeger holds for it. */
export interface ResolvedExemplar {
  exemplar: Exemplar;
  traceId: string;
  /** The trace, from Jaeger's API (empty if Jaeger does not have it). */
  trace: Span[];
  /** The span the exemplar names (span_id), if the trace holds it. */
  span?: Span;
  /** Where the span differs from the series' labels (empty: it matches). */
  mismatches: string[];
}

/** The series labels a span would get from spanmetrics (service_name, span_name, span_kind, status_code). */
export function spanmetricsLabels(span: Span): Record<string, string> {
  return {
    service_name: span.service,
    span_name: span.name,
    span_kind: `SPAN_KIND_${span.kind}`,
    status_code: `STATUS_CODE_${span.status}`,
  };
}

/** Exemplars of the histogram series a selector matches, from the last `seconds`. */
export function recentExemplars(prometheusUrl: string, selector: string, seconds = 300): Promise<Exemplar[]> {
  const now = Date.now() / 1000;
  return queryExemplars(prometheusUrl, `${DURATION_BUCKETS}${selector}`, now - seconds, now + 5);
}

/** Waits until Prometheus has at least one exemplar for the selector; returns them all. */
export function waitForExemplars(prometheusUrl: string, selector: string, timeoutMs = 30_000): Promise<Exemplar[]> {
  return waitFor(async () => {
    const found = await recentExemplars(prometheusUrl, selector);
    return found.length > 0 && found;
  }, { what: `exemplars on ${DURATION_BUCKETS}${selector} in Prometheus`, timeoutMs, intervalMs: 500 });
}

/**
 * Looks the exemplar's trace up in Jaeger (waiting for it up to `timeoutMs`) and compares the
 * span it names with the labels of the series it was attached to.
 */
export async function resolveInJaeger(jaeger: Pick<Jaeger, 'queryUrl' | 'trace'>, exemplar: Exemplar, timeoutMs = 15_000): Promise<ResolvedExemplar> {
  const traceId = exemplar.labels.trace_id ?? '';
  const spanId = exemplar.labels.span_id ?? '';
  let trace: Span[] = [];
  await waitFor(async () => (trace = await jaeger.trace(traceId)).some((s) => s.spanId === spanId), {
    what: `Jaeger (${jaeger.queryUrl}) to hold trace ${traceId} with span ${spanId}`,
    timeoutMs,
    intervalMs: 300,
  }).catch(() => undefined);
  const span = trace.find((s) => s.spanId === spanId);
  const mismatches: string[] = [];
  if (!traceId) mismatches.push('the exemplar has no trace_id label');
  if (!span) mismatches.push(trace.length ? `trace ${traceId} (${trace.length} spans) has no span ${spanId}` : `Jaeger has no trace ${traceId}`);
  else {
    for (const [k, v] of Object.entries(spanmetricsLabels(span))) {
      if (exemplar.seriesLabels[k] !== v) mismatches.push(`${k}: series says ${exemplar.seriesLabels[k]}, the span is ${v}`);
    }
    // The exemplar's value is the span's duration, in the histogram's unit (ms).
    if (Math.abs(span.durationMs - exemplar.value) > 1) mismatches.push(`value ${exemplar.value} ms, the span lasted ${span.durationMs.toFixed(3)} ms`);
  }
  return { exemplar, traceId, trace, span, mismatches };
}

/** The exemplar scenario's result: which trace ids came back, and how each resolved. */
export interface ExemplarReport {
  /** The selector the exemplars were read for. */
  selector: string;
  /** Trace ids the gateway answered with (traceresponse), by category. */
  sent: Record<string, string[]>;
  resolved: ResolvedExemplar[];
}

/** The gateway's SERVER spans for POST /orders, ok or failed: the series a RED dashboard shows. */
export const GATEWAY_ORDERS = '{service_name="gateway", span_kind="SPAN_KIND_SERVER", span_name="POST /orders"}';

/**
 * Orders of a known mix through the exemplar lab; then the exemplars of the gateway's order
 * series, read back from Prometheus, each looked up in Jaeger (at most `max` of them).
 */
export async function traceExemplars(lab: ExemplarLab, orders = 20, max = 6): Promise<ExemplarReport> {
  const result = await runTraffic({ target: lab.services.gateway.url, count: orders, rate: 20, concurrency: 4, mix: { ok: 3, error: 1, slow: 0 } });
  if (result.failed) throw new Error(`${result.failed} of ${result.sent} orders did not come out as asked: ${result.failures[0]?.message}`);
  // Both the ok series and the error series must have exemplars: wait for one on each.
  for (const status of ['STATUS_CODE_UNSET', 'STATUS_CODE_ERROR']) {
    await waitForExemplars(lab.prometheus.url, GATEWAY_ORDERS.replace('}', `, status_code="${status}"}`));
  }
  const exemplars = await recentExemplars(lab.prometheus.url, GATEWAY_ORDERS);
  // One per series and trace first (the error series has few), then the rest.
  const seen = new Set<string>();
  const picked = exemplars.filter((e) => {
    const key = `${e.seriesLabels.status_code}/${e.labels.trace_id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  picked.sort((a, b) => Number(b.seriesLabels.status_code === 'STATUS_CODE_ERROR') - Number(a.seriesLabels.status_code === 'STATUS_CODE_ERROR'));
  const resolved: ResolvedExemplar[] = [];
  for (const e of picked.slice(0, max)) resolved.push(await resolveInJaeger(lab.jaeger, e));
  return { selector: `${DURATION_BUCKETS}${GATEWAY_ORDERS}`, sent: result.traceIds, resolved };
}

export function formatExemplars(r: ExemplarReport): string {
  const lines = [`== exemplars of ${r.selector}, read back from Prometheus and looked up in Jaeger`];
  lines.push('status_code          le      trace id                          value ms  Jaeger: spans, the exemplar\'s span');
  for (const x of r.resolved) {
    const span = x.span ? `${x.trace.length} spans; ${x.span.service} ${x.span.kind} "${x.span.name}" ${x.span.status}` : 'not found';
    lines.push(
      `${(x.exemplar.seriesLabels.status_code ?? '').padEnd(20)} ${(x.exemplar.seriesLabels.le ?? '').padEnd(7)} ${x.traceId} ${x.exemplar.value.toFixed(1).padStart(9)}  ${span}${x.mismatches.length ? `  MISMATCH: ${x.mismatches.join('; ')}` : ''}`,
    );
  }
  return lines.join('\n');
}
