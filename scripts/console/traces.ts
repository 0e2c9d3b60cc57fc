// Traces as the console shows them, computed from the spans Jaeger returns: one line per trace,
// the service map (who calls whom, Kafka in between), and one trace's waterfall.
import { byTrace } from '../runtime/orders.js';
import type { Span } from '../runtime/otlp.js';
import type { Block, TraceSummary } from './view.js';

export function summarize(spans: Span[]): TraceSummary[] {
  const out: TraceSummary[] = [];
  for (const [traceId, trace] of byTrace(spans)) {
    const root = trace.find((s) => !s.parentSpanId) ?? [...trace].sort((a, b) => a.startMs - b.startMs)[0];
    const start = Math.min(...trace.map((s) => s.startMs));
    const end = Math.max(...trace.map((s) => s.startMs + s.durationMs));
    out.push({
      traceId,
      root: root.name,
      service: root.service,
      startMs: start,
      durationMs: end - start,
      status: trace.some((s) => s.status === 'ERROR') ? 'error' : 'ok',
      spans: trace.length,
    });
  }
  return out.sort((a, b) => b.startMs - a.startMs);
}

const KAFKA = 'Kafka';

/**
 * Service-to-service calls seen in the spans: a child span in another service than its parent
 * is one call; a CONSUMER whose parent is a PRODUCER went through the broker its span names.
 */
export function serviceMap(spans: Span[]): Extract<Block, { type: 'graph' }> {
  const counts = new Map<string, number>();
  const add = (from: string, to: string) => counts.set(`${from}\u0000${to}`, (counts.get(`${from}\u0000${to}`) ?? 0) + 1);
  for (const trace of byTrace(spans).values()) {
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    for (const s of trace) {
      const parent = byId.get(s.parentSpanId);
      if (!parent || parent.service === s.service) continue;
      if (s.kind === 'CONSUMER' && parent.kind === 'PRODUCER') {
        const broker = String(s.attributes['messaging.system'] ?? parent.attributes['messaging.system'] ?? '') === 'kafka' ? KAFKA : 'broker';
        add(parent.service, broker);
        add(broker, s.service);
      } else add(parent.service, s.service);
    }
  }
  const edges = [...counts].map(([k, n]) => {
    const [from, to] = k.split('\u0000');
    return { from, to, label: String(n) };
  });
  // Layers: a node's depth is its longest path from a node nothing calls.
  const ids = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
  const depth = new Map(ids.map((id) => [id, 0]));
  for (let i = 0; i < ids.length; i++) for (const e of edges) depth.set(e.to, Math.max(depth.get(e.to)!, depth.get(e.from)! + 1));
  const row = new Map<number, number>();
  const nodes = ids
    .sort((a, b) => depth.get(a)! - depth.get(b)! || a.localeCompare(b))
    .map((id) => {
      const x = depth.get(id)!;
      const y = row.get(x) ?? 0;
      row.set(x, y + 1);
      return { id, x, y, kind: id === KAFKA || id === 'broker' ? 'broker' : 'service' };
    });
  return { type: 'graph', caption: 'Service map, from the stored traces (calls per edge)', nodes, edges };
}

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  kind: string;
  status: string;
  statusMessage: string;
  depth: number;
  /** From the trace's first span start, ms. */
  offsetMs: number;
  durationMs: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** The trace's spans in tree order (parents before their children, siblings by start). */
export function waterfall(trace: Span[]): WaterfallSpan[] {
  const start = Math.min(...trace.map((s) => s.startMs));
  const ids = new Set(trace.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  for (const s of trace) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: WaterfallSpan[] = [];
  const visit = (parent: string, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        service: s.service,
        name: s.name,
        kind: s.kind,
        status: s.status,
        statusMessage: s.statusMessage,
        depth,
        offsetMs: s.startMs - start,
        durationMs: s.durationMs,
        attributes: s.attributes,
        resource: s.resource,
      });
      visit(s.spanId, depth + 1);
    }
  };
  visit('', 0);
  return out;
}

/** A trace id from what a person pastes: 32 hex digits, or a whole traceresponse / traceparent value. */
export function traceIdFrom(input: string): string | undefined {
  const text = input.trim().toLowerCase();
  const header = /^(?:traceresponse:\s*)?[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(text);
  if (header) return header[1];
  return /^[0-9a-f]{32}$/.test(text) ? text : undefined;
}
