// Helpers for the services scenarios: start the shop (capture collector, Kafka, the four
// services), place an order, and read the trace it produced as a skeleton — the
// SERVER/CLIENT/PRODUCER/CONSUMER spans, each with its nearest such ancestor — which is what
// "one trace across HTTP and Kafka" means, whatever INTERNAL spans express adds.
import { startCapture, startKafka, type Capture, type Kafka, type Span } from '../../scripts/runtime/index.js';
import { startServices, type ServicesOptions, type Services } from '../../scripts/runtime/services.js';

export interface Shop {
  capture: Capture;
  kafka: Kafka;
  services: Services;
}

/** A capture collector and Kafka (started side by side), then the services exporting to the capture. */
export async function startShop(opts: Omit<ServicesOptions, 'kafkaBootstrap' | 'otlpEndpoint'> = {}): Promise<Shop> {
  const [capture, kafka] = await Promise.all([startCapture(), startKafka()]);
  const services = await startServices({ ...opts, otlpEndpoint: capture.otlpHttp, kafkaBootstrap: kafka.bootstrap });
  return { capture, kafka, services };
}

export const ORDER = { customer: 'ada', item: 'telescope', quantity: 2 };

export interface Placed {
  status: number;
  body: any;
  traceId: string;
  sampled: boolean;
  ms: number;
}

export async function placeOrder(gatewayUrl: string, fault?: 'error' | 'slow' | 'none', body: unknown = ORDER): Promise<Placed> {
  const t0 = performance.now();
  const res = await fetch(`${gatewayUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(fault ? { 'x-lab-fault': fault } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  const m = /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(res.headers.get('traceresponse') ?? '');
  if (!m) throw new Error(`gateway answered ${res.status} without a valid traceresponse header: ${text}`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed, traceId: m[1], sampled: (parseInt(m[2], 16) & 1) === 1, ms };
}

export function spansOfTrace(spans: Span[], traceId: string): Span[] {
  return spans.filter((s) => s.traceId === traceId);
}

/** The whole trace of an accepted order: complete once payments' and the consumer's spans are in. */
/**
 * Waits until the order's trace is whole: payments and the consumer span are in, and every
 * parent is present (a service's server span ends last, so it can leave in a later export
 * batch than its children). On timeout it returns what did arrive, so the assertions show
 * exactly what is missing instead of a bare timeout.
 */
export async function waitForOrderTrace(capture: Capture, traceId: string): Promise<Span[]> {
  try {
    return await capture.waitForSpans((all) => {
      const t = spansOfTrace(all, traceId);
      const whole = t.some((s) => s.kind === 'CONSUMER') && t.some((s) => s.service === 'payments') && danglingParents(t).length === 0;
      return whole && t;
    }, `the order's trace ${traceId}, whole (consumer span in, no missing parent)`);
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('timed out'))) throw err; // e.g. a component died
    return spansOfTrace(capture.spans(), traceId);
  }
}

const label = (s: Span) => `${s.service} ${s.kind} ${s.name}`;

/** "service KIND name <- parent's label" for every non-INTERNAL span, sorted. */
export function skeleton(trace: Span[]): string[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const nearestBoundary = (s: Span): Span | undefined => {
    let p = byId.get(s.parentSpanId);
    while (p && p.kind === 'INTERNAL') p = byId.get(p.parentSpanId);
    return p;
  };
  return trace
    .filter((s) => s.kind !== 'INTERNAL')
    .map((s) => {
      const parent = nearestBoundary(s);
      return `${label(s)} <- ${parent ? label(parent) : s.parentSpanId ? 'MISSING PARENT' : 'root'}`;
    })
    .sort();
}

/** The trace of one successful order, as the lab expects it. */
export const ORDER_SKELETON = [
  'fulfillment CONSUMER process orders <- orders PRODUCER send orders',
  'gateway CLIENT POST <- gateway SERVER POST /orders',
  'gateway SERVER POST /orders <- root',
  'orders CLIENT POST <- orders SERVER POST /orders',
  'orders PRODUCER send orders <- orders SERVER POST /orders',
  'orders SERVER POST /orders <- gateway CLIENT POST',
  'payments SERVER POST /payments <- orders CLIENT POST',
];

/** Parent ids that point at no span of the trace (a broken propagation shows up here). */
export function danglingParents(trace: Span[]): Span[] {
  const ids = new Set(trace.map((s) => s.spanId));
  return trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
}
