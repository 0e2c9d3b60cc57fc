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
  /** Traces that started at or after this time (ms since epoch). */
  sinceMs: number;
  /** ... and before this one (default: now). */
  untilMs?: number;
  /** How many traces at most (Jaeger's search depth; default 500). */
  limit?: number;
}

/** Every span of the traces matching a query, read through Jaeger's API v3; [] when none match. */
export async function findJaegerTraces(queryUrl: string, q: TraceQuery): Promise<Span[]> {
  const params = new URLSearchParams({
    'query.service_name': q.service,
    'query.start_time_min': new Date(q.sinceMs).toISOString(),
    'query.start_time_max': new Date(q.untilMs ?? Date.now() + 60_000).toISOString(),
    // Jaeger v1.76 (2.13) reads num_traces; newer releases call it search_depth (and keep both).
    'query.num_traces': String(q.limit ?? 500),
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

/**
 * The spans of the latest traces that touch `service` (API v3 FindTraces, OTLP JSON): at most
 * `limit` traces started within the last `lookbackMs` (with a span named `operation`, if given).
 * Empty when the store holds none.
 */
export async function findJaegerTraces(
  queryUrl: string,
  service: string,
  { limit = 20, lookbackMs = 15 * 60_000, operation }: { limit?: number; lookbackMs?: number; operation?: string } = {},
): Promise<Span[]> {
  const now = Date.now();
  const params = new URLSearchParams({
    'query.service_name': service,
    'query.start_time_min': new Date(now - lookbackMs).toISOString(),
    'query.start_time_max': new Date(now + 60_000).toISOString(),
    'query.num_traces': String(limit),
    ...(operation ? { 'query.operation_name': operation } : {}),
  });
  const res = await fetch(`${queryUrl}/api/v3/traces?${params}`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Jaeger at ${queryUrl} answered ${res.status} to FindTraces(${service}): ${await res.text()}`);
  const body = (await res.json()) as { result?: unknown };
  return spansOf(body.result ?? {});
}
