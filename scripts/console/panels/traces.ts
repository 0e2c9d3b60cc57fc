// Traces: the latest traces (root, duration, status, span count), one trace's waterfall with its
// attributes and resource (the page asks /api/traces/<id>), lookup by a traceresponse's trace id,
// and buttons that place an order and open its trace when it has arrived.
import { findJaegerTraces } from '../../runtime/jaeger.js';
import { spanCount } from '../../runtime/orders.js';
import { definePanel } from '../panel.js';
import { summarize } from '../traces.js';

export default definePanel({
  id: 'traces',
  title: 'Traces',
  order: 10,
  claim: `One order is one trace of ${spanCount('ok')} spans across gateway, orders, payments and fulfillment; the gateway names it in its traceresponse header.`,
  uses: () => ['Jaeger', 'gateway'],
  async render(ctx) {
    if (!ctx.jaegerUrl) return { state: 'empty', blocks: [{ type: 'empty', text: 'No trace store is configured for this console (--jaeger URL).' }] };
    const traces = summarize(await findJaegerTraces(ctx.jaegerUrl, { service: 'gateway', limit: 20, operation: 'POST /orders' })).slice(0, 20);
    return [
      { type: 'order-controls' },
      traces.length
        ? { type: 'traces', caption: `Latest orders: ${traces.length} traces of POST /orders (last 15 min)`, traces }
        : { type: 'empty', text: 'Jaeger holds no trace yet: place an order with a button above, or send traffic.', command: 'npm run traffic -- --target http://127.0.0.1:8080 --count 20' },
    ];
  },
});
