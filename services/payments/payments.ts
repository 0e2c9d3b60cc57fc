// Takes payment for an order. Holds the lab's fault knobs: a share of payments fail
// (PAYMENTS_ERROR_RATE) or are slow (PAYMENTS_SLOW_RATE, PAYMENTS_SLOW_MS), unless the request
// says exactly what to do with `x-lab-fault`. And Lab 5's CPU knob: PAYMENTS_FRAUD_ROUNDS > 0 runs a
// CPU-heavy fraud check on every payment (fraud.ts), the hot function a profile should show.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import * as config from '../shared/config.js';
import { requestedFault, type Fault } from '../shared/fault.js';
import { createApp, HttpError, jsonBody, serverSpanOf } from '../shared/http.js';
import { scoreFraudRisk } from './fraud.js';

export interface PaymentsConfig {
  errorRate: number;
  slowRate: number;
  slowMs: number;
  /** Rounds of the fraud check per payment; 0 (the default) skips it. */
  fraudRounds: number;
}

export function paymentsConfig(env = process.env): PaymentsConfig {
  return {
    errorRate: config.rate(env, 'PAYMENTS_ERROR_RATE', 0),
    slowRate: config.rate(env, 'PAYMENTS_SLOW_RATE', 0),
    slowMs: config.integer(env, 'PAYMENTS_SLOW_MS', 1_500, { min: 0, max: 60_000 }),
    fraudRounds: config.integer(env, 'PAYMENTS_FRAUD_ROUNDS', 0, { min: 0, max: 100_000_000 }),
  };
}

/** The header decides when present; otherwise the configured rates roll the dice. */
export function chooseFault(requested: Fault | undefined, cfg: PaymentsConfig, random = Math.random): Fault {
  if (requested) return requested;
  const roll = random();
  if (roll < cfg.errorRate) return 'error';
  if (roll < cfg.errorRate + cfg.slowRate) return 'slow';
  return 'none';
}

function parsePayment(body: Record<string, unknown>) {
  const problems: string[] = [];
  if (typeof body.orderId !== 'string' || body.orderId === '') problems.push('orderId must be a non-empty string');
  if (!Number.isInteger(body.amountCents) || (body.amountCents as number) <= 0) problems.push('amountCents must be a positive integer');
  if (problems.length) throw new HttpError(400, 'invalid_payment', problems.join('; '), problems);
  return { orderId: body.orderId as string, amountCents: body.amountCents as number };
}

export function paymentsApp(cfg: PaymentsConfig): Express {
  const app = createApp();
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', faults: cfg });
  });
  app.post('/payments', ...jsonBody(), async (req, res) => {
    const payment = parsePayment(req.body);
    const requested = requestedFault(req);
    const fault = chooseFault(requested, cfg);
    const span = serverSpanOf(req);
    span?.setAttributes({
      'lab.order.id': payment.orderId,
      'lab.fault': fault,
      'lab.fault.source': requested ? 'header' : 'rate',
    });
    if (cfg.fraudRounds > 0) {
      const score = scoreFraudRisk(payment.orderId, payment.amountCents, cfg.fraudRounds);
      span?.setAttribute('lab.fraud.score', score);
    }
    if (fault === 'slow') await sleep(cfg.slowMs);
    if (fault === 'error') {
      throw new HttpError(500, 'payment_failed', `payment for order ${payment.orderId} failed (injected fault)`);
    }
    res.status(201).json({ paymentId: randomUUID(), orderId: payment.orderId, status: 'captured' });
  });
  return app;
}
