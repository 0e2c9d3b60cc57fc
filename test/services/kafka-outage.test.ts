// Services, claim 5: when Kafka is down, orders says so (503, clear error) instead of losing
// orders, and the flow recovers by itself once the broker is back: orders publishes again and
// fulfillment consumes again, with no restart of the services.
// The tests are steps of one outage, in order: each continues from the state the previous one
// left (Kafka stopped, then restarted; the orders accepted so far), and checks it is there.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type Capture, type Kafka } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import type { Services } from '../../scripts/runtime/services.js';
import { placeOrder, spansOfTrace, type Placed } from '../../scripts/runtime/orders.js';
import { startShop } from './shop.js';

describe('Kafka outage and recovery (steps in order, each continuing from the previous one)', () => {
  useLab();
  let capture: Capture;
  let kafka: Kafka;
  let services: Services;
  const accepted: Placed[] = [];
  let brokerStopped = false;

  const consumed = (orderId: string, traceId: string) =>
    capture.waitForSpans(
      (all) => spansOfTrace(all, traceId).find((s) => s.kind === 'CONSUMER' && s.attributes['lab.order.id'] === orderId),
      `fulfillment's consumer span for order ${orderId}`,
      30_000,
    );

  beforeAll(async () => {
    ({ capture, kafka, services } = await startShop());
    const first = await placeOrder(services.gateway.url);
    expect(first.status).toBe(201);
    accepted.push(first);
  });

  it('answers 503 kafka_unavailable while the broker is down, and records it as an ERROR span', async () => {
    await kafka.stop();
    brokerStopped = true;
    const placed = await placeOrder(services.gateway.url);
    expect(placed.status).toBe(503);
    expect(placed.body.error.code).toBe('kafka_unavailable');
    expect(placed.body.error.message).toMatch(/NOT placed: Kafka is unavailable/);
    const span = await capture.waitForSpans(
      (all) => spansOfTrace(all, placed.traceId).find((s) => s.service === 'orders' && s.kind === 'SERVER'),
      'the orders server span of the refused order',
    );
    expect(span.status).toBe('ERROR');
    expect(span.attributes['lab.error.code']).toBe('kafka_unavailable');
    expect(services.orders.process.exit).toBeUndefined();
    expect(services.fulfillment.process.exit).toBeUndefined();
  });

  it('accepts orders again once Kafka is back, and fulfillment consumes them', async () => {
    expect(brokerStopped, 'the previous test stopped Kafka').toBe(true);
    await kafka.restart();
    // Every answer while waiting is kept and asserted after the wait (an expect in the probe
    // would be retried, so a 500 on the way would go unreported).
    const refused: number[] = [];
    const recovered = await waitFor(
      async () => {
        const placed = await placeOrder(services.gateway.url);
        if (placed.status !== 201) refused.push(placed.status);
        return placed.status === 201 && placed;
      },
      { what: 'orders to accept an order after the Kafka restart', timeoutMs: 60_000, intervalMs: 1000 },
    );
    // Until the producer has reconnected the answer is a 503, never anything else.
    expect(refused.filter((status) => status !== 503), 'answers other than 503 before recovery').toEqual([]);
    accepted.push(recovered);
    await consumed(recovered.body.orderId, recovered.traceId);
  }, 120_000);

  it('loses no accepted order: each one is counted as published and reaches fulfillment', async () => {
    expect(accepted.map((p) => p.status), 'the order before the outage and the one after it').toEqual([201, 201]);
    for (const placed of accepted) await consumed(placed.body.orderId, placed.traceId);
    const published = await fetch(services.orders.metricsUrl).then((r) => r.text());
    expect(published).toMatch(new RegExp(`^lab_orders_published_total ${accepted.length}$`, 'm'));
  });
});
