// Services, claim 1: one order is ONE trace, across the HTTP hops (gateway -> orders ->
// payments) and the Kafka hop (orders -> topic -> fulfillment), through the agent collector.
import { beforeAll, describe, expect, it } from 'vitest';
import { startCapture, startCollector, startKafka, type Capture, type Span } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startServices, type Services } from '../../scripts/runtime/services.js';
import { danglingParents, placeOrder, waitForOrderTrace, type Placed } from '../../scripts/runtime/orders.js';
import { ORDER_SKELETON, skeleton } from './shop.js';

describe('one order through the four services (SDK bootstrap)', () => {
  useLab();
  let capture: Capture;
  let services: Services;
  let order: Placed;
  let trace: Span[];

  beforeAll(async () => {
    capture = await startCapture();
    const [agent, kafka] = await Promise.all([
      startCollector({
        config: 'collector/agent.yaml',
        env: { TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: capture.otlpHttp },
      }),
      startKafka(),
    ]);
    services = await startServices({ otlpEndpoint: agent.otlpHttp, kafkaBootstrap: kafka.bootstrap, mode: 'sdk' });
    order = await placeOrder(services.gateway.url);
    trace = await waitForOrderTrace(capture, order.traceId);
  });

  it('accepts the order and names its trace in the traceresponse header', () => {
    expect(order.status).toBe(201);
    expect(order.body.status).toBe('accepted');
    expect(order.sampled).toBe(true);
  });

  it('puts every span of all four services in the same trace, with no broken parent link', () => {
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['gateway', 'orders', 'payments', 'fulfillment']));
    expect(danglingParents(trace)).toEqual([]);
    expect(trace.filter((s) => !s.parentSpanId).map((s) => `${s.service} ${s.name}`)).toEqual(['gateway POST /orders']);
  });

  it('links server, client, producer and consumer spans parent to child along the order path', () => {
    expect(skeleton(trace)).toEqual(ORDER_SKELETON);
  });

  it('continues the trace over Kafka as a child of the producer span (eachMessage), not a link', () => {
    const producer = trace.find((s) => s.kind === 'PRODUCER')!;
    const consumer = trace.find((s) => s.kind === 'CONSUMER')!;
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.attributes['messaging.system']).toBe('kafka');
    expect(consumer.attributes['messaging.destination.name']).toBe('orders');
    expect(consumer.attributes['lab.order.id']).toBe(order.body.orderId);
  });

  it('has 14 spans: 5 in gateway, 5 in orders, 3 in payments, 1 in fulfillment', () => {
    // waitForOrderTrace already waited for exactly this shape (SPANS_PER_SERVICE.ok); written out
    // here as the services' documented trace, so a change to either is seen.
    expect(trace).toHaveLength(14);
    const perService: Record<string, number> = {};
    for (const s of trace) perService[s.service] = (perService[s.service] ?? 0) + 1;
    expect(perService).toEqual({ gateway: 5, orders: 5, payments: 3, fulfillment: 1 });
  });

  it('carries service.name and the shared resource attributes on every span', () => {
    for (const s of trace) {
      expect(s.resource['service.name']).toBe(s.service);
      expect(s.resource['service.namespace']).toBe('otel-lab');
    }
  });
});
