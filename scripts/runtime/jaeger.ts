// Jaeger v2 (our Go build) as the trace store: the same config/jaeger/jaeger.yaml as compose.
// Jaeger v2 is itself built on the collector, so it starts like one (validate, then health).
import { startCollector, type Collector } from './collector.js';
import { artifact } from './components.js';
import { spansOf, type Span } from './otlp.js';

export interface Jaeger extends Collector {
  /** Query API and (placeholder) UI base URL. */
  queryUrl: string;
  /** The spans of one trace, read back through Jaeger's API v3 (empty until it arrives). */
  trace(traceId: string): Promise<Span[]>;
}

/** The spans of one trace from a Jaeger query API (API v3, OTLP JSON); empty until it is stored. */
export async function readJaegerTrace(queryUrl: string, traceId: string): Promise<Span[]> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Jaeger at ${queryUrl} answered ${res.status} for trace ${traceId}: ${await res.text()}`);
  const body = (await res.json()) as { result?: unknown };
  return spansOf(body.result ?? {});
}

/** What to look for with findJaegerTraces (Jaeger's API v3 FindTraces). */
export interface TraceQuery {
  service: string;
  /** Traces that started at or after this time (ms since epoch; default: 15 minutes ago). */
  sinceMs?: number;
  /** ... and before this one (default: now). */
  untilMs?: number;
  /** How many traces at most (Jaeger's search depth; default 500). */
  limit?: number;
  /** Only traces with a span of this name. */
  operation?: string;
}

/** Every span of the traces matching a query, read through Jaeger's API v3; [] when none match. */
export async function findJaegerTraces(queryUrl: string, q: TraceQuery): Promise<Span[]> {
  const params = new URLSearchParams({
    'query.service_name': q.service,
    'query.start_time_min': new Date(q.sinceMs ?? Date.now() - 15 * 60_000).toISOString(),
    'query.start_time_max': new Date(q.untilMs ?? Date.now() + 60_000).toISOString(),
    // Jaeger v1.76 (2.13) reads num_traces; newer releases call it search_depth (and keep both).
    'query.num_traces': String(q.limit ?? 500),
    ...(q.operation ? { 'query.operation_name': q.operation } : {}),
  });
  const res = await fetch(`${queryUrl}/api/v3/traces?${params}`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Jaeger at ${queryUrl} answered ${res.status} to a search for service ${q.service}: ${await res.text()}`);
  const body = (await res.json()) as { result?: unknown };
  return spansOf(body.result ?? {});
}

export async function startJaeger(opts: { name?: string; env?: Record<string, string> } = {}): Promise<Jaeger> {
  const collector = await startCollector({
    config: 'config/jaeger/jaeger.yaml',
    binary: artifact('jaeger'),
    healthPath: '/status',
    name: opts.name ?? 'jaeger',
    env: opts.env,
  });
  const queryUrl = `http://${collector.listen.QUERY_HTTP_LISTEN}`;
  return {
    ...collector,
    queryUrl,
    trace: (traceId) => readJaegerTrace(queryUrl, traceId),
  };
}
