// One order through the shop, and what its trace must look like: the contract of services/
// that every lab reads its traces against (the services tests, Lab 2's report, Lab 3's
// injected pods). The shape was observed with the tests (services/README.md, "The trace of
// one order").
import { parseTraceResponse } from '../traffic/run.js';
import type { Category } from '../traffic/mix.js';
import type { Capture } from './capture.js';
import type { Span } from './otlp.js';

export const ORDER = { customer: 'ada', item: 'telescope', quantity: 2 };

export type Fault = 'error' | 'slow' | 'none';

export interface Placed {
  status: number;
  /** The answer, parsed when it is JSON. */
  body: any;
  /** From the gateway's W3C traceresponse header. */
  traceId: string;
  /** The head sampler's decision, from the same header. */
  sampled: boolean;
  traceresponse: string;
  ms: number;
}

export interface Answer {
  status: number;
  /** The answer, parsed when it is JSON. */
  body: any;
  /** The gateway's W3C traceresponse header, null when it sent none. */
  traceresponse: string | null;
  ms: number;
}

/**
 * POSTs one order to the gateway (`x-lab-fault` when given) and resolves with whatever it
 * answered, traceresponse or not (Lab 3's version skew: an injected SDK the app's API cannot reach).
 */
export async function postOrder(gatewayUrl: string, fault?: Fault, body: unknown = ORDER): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${gatewayUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(fault ? { 'x-lab-fault': fault } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed, traceresponse: res.headers.get('traceresponse'), ms };
}

/** POSTs one order to the gateway (`x-lab-fault` when given); rejects when no traceresponse names its trace. */
export async function placeOrder(gatewayUrl: string, fault?: Fault, body: unknown = ORDER): Promise<Placed> {
  const answer = await postOrder(gatewayUrl, fault, body);
  const trace = parseTraceResponse(answer.traceresponse);
  if (!trace) {
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    throw new Error(`gateway answered ${answer.status} without a valid traceresponse header: ${text}`);
  }
  return { ...answer, ...trace, traceresponse: answer.traceresponse! };
}

/**
 * Spans per service of one order's trace, by traffic category, in the SDK bootstrap and in
 * zero-code mode alike. gateway: SERVER, 3 INTERNAL (middleware, handler), CLIENT; orders:
 * SERVER, 2 INTERNAL, CLIENT, PRODUCER; payments: SERVER, 2 INTERNAL; fulfillment: CONSUMER.
 * A failed payment is never published: no PRODUCER in orders, nothing in fulfillment.
 */
export const SPANS_PER_SERVICE: Record<Category, Record<string, number>> = {
  ok: { gateway: 5, orders: 5, payments: 3, fulfillment: 1 },
  slow: { gateway: 5, orders: 5, payments: 3, fulfillment: 1 },
  error: { gateway: 5, orders: 4, payments: 3 },
};

export const spanCount = (category: Category) => Object.values(SPANS_PER_SERVICE[category]).reduce((a, b) => a + b, 0);

export function spansOfTrace(spans: Span[], traceId: string): Span[] {
  return spans.filter((s) => s.traceId === traceId);
}

export function byTrace(spans: Span[]): Map<string, Span[]> {
  const out = new Map<string, Span[]>();
  for (const s of spans) {
    let list = out.get(s.traceId);
    if (!list) out.set(s.traceId, (list = []));
    list.push(s);
  }
  return out;
}

/** Parent ids that point at no span of the trace (a broken propagation shows up here). */
export function danglingParents(trace: Span[]): Span[] {
  const ids = new Set(trace.map((s) => s.spanId));
  return trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
}

/**
 * Why an order's trace is not complete, or undefined when it is: one root, no span whose parent
 * is missing, and exactly the spans per service its category produces (SPANS_PER_SERVICE):
 * none missing, none twice.
 */
export function incompleteness(trace: Span[], category: Category): string | undefined {
  const roots = trace.filter((s) => !s.parentSpanId);
  if (roots.length !== 1) return `${roots.length} root spans`;
  const orphans = danglingParents(trace);
  if (orphans.length) return `${orphans.length} spans whose parent is missing (${orphans.map((s) => `${s.service}: ${s.name}`).join(', ')})`;
  const expected = SPANS_PER_SERVICE[category];
  const got: Record<string, number> = {};
  for (const s of trace) got[s.service] = (got[s.service] ?? 0) + 1;
  const wrong = [...new Set([...Object.keys(expected), ...Object.keys(got)])]
    .filter((service) => (got[service] ?? 0) !== (expected[service] ?? 0))
    .map((service) => `${service} ${got[service] ?? 0} of ${expected[service] ?? 0}`);
  if (wrong.length) return `spans per service not as ${category} orders make them: ${wrong.join(', ')}`;
  return undefined;
}

/**
 * Waits until the capture holds the order's complete trace (incompleteness() says nothing) and
 * returns it; rejects at the deadline saying what is wrong with what did arrive.
 */
export async function waitForOrderTrace(capture: Capture, traceId: string, category: Category = 'ok', timeoutMs = 20_000): Promise<Span[]> {
  let why = 'no span yet';
  try {
    return await capture.waitForSpans(
      (all) => {
        const trace = spansOfTrace(all, traceId);
        why = (trace.length ? incompleteness(trace, category) : undefined) ?? (trace.length ? '' : 'no span yet');
        return !why && trace;
      },
      `the ${category} order's trace ${traceId}, complete (${spanCount(category)} spans)`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; at the deadline: ${why}`);
  }
}
