// Services, claim 2: with NO SDK code at all — the services started as the OpenTelemetry
// Operator starts them, NODE_OPTIONS=--require @opentelemetry/auto-instrumentations-node/register —
// an order produces the same trace as with our bootstrap.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Span } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { danglingParents, placeOrder, spanCount, waitForOrderTrace, type Placed } from '../../scripts/runtime/orders.js';
import { ORDER_SKELETON, skeleton, startShop } from './shop.js';

describe('zero-code instrumentation (what the operator injects)', () => {
  useLab();
  let order: Placed;
  let trace: Span[];

  beforeAll(async () => {
    const { capture, services } = await startShop({ mode: 'zero-code' });
    order = await placeOrder(services.gateway.url);
    trace = await waitForOrderTrace(capture, order.traceId);
  });

  it('exports through the register hook alone: our bootstrap is not on any command line', () => {
    // process.command_args comes from the SDK's process resource detector. The trace is the
    // whole order (waitForOrderTrace rejects unless every span arrived), so no span goes unchecked.
    expect(trace).toHaveLength(spanCount('ok'));
    for (const s of trace) {
      const args = s.resource['process.command_args'] as string[];
      expect(args.some((a) => a.endsWith(`services/${s.service}/main.ts`))).toBe(true);
      expect(args.join(' ')).not.toContain('telemetry.ts');
      expect(s.resource['service.namespace'], s.service).toBe('otel-lab');
    }
  });

  it('produces the same trace shape as the SDK bootstrap: one trace, same parents and kinds', () => {
    expect(order.status).toBe(201);
    expect(danglingParents(trace)).toEqual([]);
    expect(skeleton(trace)).toEqual(ORDER_SKELETON);
  });

  it('names the server spans by route, so express was instrumented (the services are CommonJS)', () => {
    const servers = trace.filter((s) => s.kind === 'SERVER').map((s) => `${s.service} ${s.attributes['http.route']}`);
    expect(servers.sort()).toEqual(['gateway /orders', 'orders /orders', 'payments /payments']);
  });
});
