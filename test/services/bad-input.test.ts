// Services, claim 4: bad input is answered, not crashed on. Invalid JSON, missing or wrong-typed
// fields get a 400 with a JSON body saying what is wrong, and the server span records it.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Capture } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { SERVICE_NAMES, type Services } from '../../scripts/runtime/services.js';
import { placeOrder, spansOfTrace } from '../../scripts/runtime/orders.js';
import { startShop } from './shop.js';

describe('bad input to the services', () => {
  useLab();
  let capture: Capture;
  let services: Services;

  const serverSpan = (traceId: string, service: string) =>
    capture.waitForSpans(
      (all) => spansOfTrace(all, traceId).find((s) => s.service === service && s.kind === 'SERVER'),
      `${service} server span of trace ${traceId}`,
    );

  beforeAll(async () => {
    ({ capture, services } = await startShop());
  });

  it('answers invalid JSON with 400 invalid_json, recorded on the gateway server span', async () => {
    const placed = await placeOrder(services.gateway.url, undefined, '{"customer": "ada",');
    expect(placed.status).toBe(400);
    expect(placed.body.error.code).toBe('invalid_json');
    expect(placed.body.error.message).toMatch(/not valid JSON/);
    expect(placed.body.traceId).toBe(placed.traceId);
    const span = await serverSpan(placed.traceId, 'gateway');
    expect(span.attributes['http.response.status_code']).toBe(400);
    expect(span.attributes['lab.error.code']).toBe('invalid_json');
    expect(span.events.map((e) => e.name)).toContain('exception');
    // 4xx is the client's mistake: HTTP semantic conventions leave the server span UNSET.
    expect(span.status).toBe('UNSET');
  });

  it('lists every missing or wrong-typed field at once in a 400 invalid_order', async () => {
    const placed = await placeOrder(services.gateway.url, undefined, { customer: 42, quantity: 'two' });
    expect(placed.status).toBe(400);
    expect(placed.body.error.code).toBe('invalid_order');
    expect(placed.body.error.details).toEqual([
      'customer must be a string, got number',
      'item is missing',
      'quantity must be a number, got string',
    ]);
    const span = await serverSpan(placed.traceId, 'orders');
    expect(span.attributes['lab.error.code']).toBe('invalid_order');
    expect(span.attributes['http.response.status_code']).toBe(400);
  });

  it('refuses a body that is not a JSON object (array, wrong content type) with 400', async () => {
    const array = await placeOrder(services.gateway.url, undefined, '[1, 2]');
    expect(array.status).toBe(400);
    const text = await fetch(`${services.gateway.url}/orders`, { method: 'POST', body: 'customer=ada' });
    expect(text.status).toBe(400);
    expect(((await text.json()) as any).error.code).toBe('invalid_json');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await fetch(`${services.gateway.url}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
  });

  it('keeps every service up and serving after the bad requests', async () => {
    for (const name of SERVICE_NAMES) {
      expect(services[name].process.exit, name).toBeUndefined();
      expect((await fetch(`${services[name].url}/health`)).status, name).toBe(200);
    }
    expect((await placeOrder(services.gateway.url)).status).toBe(201);
  });
});
