// Services, claim 3: the fault knobs are ground truth. A payment failure shows up as span status
// ERROR on the path it took; a slow payment as measured latency; the x-lab-fault header wins
// over the configured rates.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Capture, type Span } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import type { Services } from '../../scripts/runtime/services.js';
import { placeOrder, waitForOrderTrace } from '../../scripts/runtime/orders.js';
import type { Category } from '../../scripts/traffic/mix.js';
import { startShop } from './shop.js';

const SLOW_MS = 800;

describe('fault knobs of the payments service', () => {
  useLab();
  let capture: Capture;
  let services: Services;

  /** The order's complete trace: every span its kind makes (a failed payment: 12, no PRODUCER). */
  const traceOf = (traceId: string, kind: Category) => waitForOrderTrace(capture, traceId, kind);
  const server = (t: Span[], service: string) => t.find((s) => s.service === service && s.kind === 'SERVER')!;

  beforeAll(async () => {
    // Every payment fails by configuration, unless the request says otherwise.
    ({ capture, services } = await startShop({
      env: { payments: { PAYMENTS_ERROR_RATE: '1', PAYMENTS_SLOW_MS: String(SLOW_MS) } },
    }));
  });

  it('fails the payment by rate (PAYMENTS_ERROR_RATE=1): ERROR on payments, orders and gateway server spans', async () => {
    const order = await placeOrder(services.gateway.url);
    expect(order.status).toBe(502);
    expect(order.body.error.code).toBe('payment_failed');
    const t = await traceOf(order.traceId, 'error');
    for (const name of ['payments', 'orders', 'gateway']) expect(server(t, name).status, name).toBe('ERROR');
    expect(server(t, 'payments').attributes).toMatchObject({ 'lab.fault': 'error', 'lab.fault.source': 'rate' });
    // A failed payment is never published: no producer span in the trace.
    expect(t.filter((s) => s.kind === 'PRODUCER')).toEqual([]);
  });

  it('lets x-lab-fault: none override the configured error rate', async () => {
    const order = await placeOrder(services.gateway.url, 'none');
    expect(order.status).toBe(201);
    const t = await traceOf(order.traceId, 'ok');
    expect(t.filter((s) => s.status === 'ERROR')).toEqual([]);
    expect(server(t, 'payments').attributes).toMatchObject({ 'lab.fault': 'none', 'lab.fault.source': 'header' });
  });

  it('makes x-lab-fault: slow a slow payment, measured on every span of the path and by the client', async () => {
    const order = await placeOrder(services.gateway.url, 'slow');
    expect(order.status).toBe(201);
    expect(order.ms).toBeGreaterThanOrEqual(SLOW_MS);
    const t = await traceOf(order.traceId, 'slow');
    for (const name of ['payments', 'orders', 'gateway']) {
      expect(server(t, name).durationMs, name).toBeGreaterThanOrEqual(SLOW_MS);
      expect(server(t, name).status, name).toBe('UNSET');
    }
    expect(server(t, 'payments').attributes['lab.fault']).toBe('slow');
  });

  it('makes x-lab-fault: error a failed payment, with the exception recorded on the payments span', async () => {
    const order = await placeOrder(services.gateway.url, 'error');
    expect(order.status).toBe(502);
    const t = await traceOf(order.traceId, 'error');
    const payments = server(t, 'payments');
    expect(payments.status).toBe('ERROR');
    expect(payments.attributes['http.response.status_code']).toBe(500);
    expect(payments.attributes['lab.error.code']).toBe('payment_failed');
    expect(payments.events.map((e) => e.name)).toContain('exception');
  });

  it('refuses an unknown fault name with 400 instead of guessing', async () => {
    const res = await fetch(`${services.gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lab-fault': 'explode' },
      body: JSON.stringify({ customer: 'ada', item: 'telescope', quantity: 1 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe('invalid_fault');
  });
});
