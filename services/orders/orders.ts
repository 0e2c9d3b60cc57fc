// Validates an order, has payments take the money, then publishes the order to Kafka for
// fulfillment. It answers 201 only once the order is on the topic.
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import * as config from '../shared/config.js';
import { errorMessage, postJson } from '../shared/downstream.js';
import { faultHeaders, requestedFault } from '../shared/fault.js';
import { createApp, HttpError, jsonBody, serverSpanOf } from '../shared/http.js';
import { orderCounter } from '../shared/metrics.js';
import { parseOrder, UNIT_PRICE_CENTS, type Order } from './order.js';
import type { OrderPublisher } from './publisher.js';

export interface OrdersConfig {
  paymentsUrl: string;
  brokers: string[];
  timeoutMs: number;
  publishTimeoutMs: number;
}

export function ordersConfig(env = process.env): OrdersConfig {
  return {
    paymentsUrl: config.url(env, 'PAYMENTS_URL', 'http://payments:8080'),
    brokers: config.brokers(env, 'KAFKA_BROKERS'),
    timeoutMs: config.integer(env, 'DOWNSTREAM_TIMEOUT_MS', 10_000, { min: 1 }),
    // Below the gateway's DOWNSTREAM_TIMEOUT_MS, so a Kafka outage reaches the client as a 503.
    publishTimeoutMs: config.integer(env, 'KAFKA_PUBLISH_TIMEOUT_MS', 5_000, { min: 1 }),
  };
}

export function ordersApp(cfg: OrdersConfig, publisher: OrderPublisher): Express {
  const app = createApp();
  const orderPublished = orderCounter('published');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/orders', ...jsonBody(), async (req, res) => {
    const request = parseOrder(req.body);
    const fault = requestedFault(req);
    const order: Order = {
      ...request,
      orderId: randomUUID(),
      amountCents: request.quantity * UNIT_PRICE_CENTS,
      placedAt: new Date().toISOString(),
    };
    serverSpanOf(req)?.setAttribute('lab.order.id', order.orderId);

    const payment = await postJson(
      'payments',
      `${cfg.paymentsUrl}/payments`,
      { orderId: order.orderId, amountCents: order.amountCents },
      faultHeaders(fault),
      cfg.timeoutMs,
    );
    if (payment.status !== 201) {
      throw new HttpError(502, 'payment_failed', `payments answered ${payment.status}: ${errorMessage(payment.body)}`);
    }

    try {
      await publisher.publish(order);
    } catch (err) {
      throw new HttpError(
        503,
        'kafka_unavailable',
        `order ${order.orderId} was paid but NOT placed: Kafka is unavailable (${(err as Error).message}); retry later`,
      );
    }
    orderPublished();
    res.status(201).json({ orderId: order.orderId, status: 'accepted' });
  });
  return app;
}
