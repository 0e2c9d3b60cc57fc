// Helpers for the services scenarios: start the shop (capture collector, Kafka, the four
// services) and read an order's trace (scripts/runtime/orders.ts) as a skeleton — the
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
