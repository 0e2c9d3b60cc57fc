// Overview: every component with its health and address, and the service map derived from the
// traces Jaeger stores (gateway → orders → payments, orders → Kafka → fulfillment).
import { findJaegerTraces } from '../../runtime/jaeger.js';
import { healthProblem } from '../context.js';
import { definePanel } from '../panel.js';
import { serviceMap } from '../traces.js';
import type { Block } from '../view.js';

export default definePanel({
  id: 'overview',
  title: 'Overview',
  order: 0,
  claim: 'One order crosses four services and a Kafka topic; every component below answers, and the service map is drawn from the traces it stored.',
  uses: (ctx) => ctx.components().map((c) => c.name),
  async render(ctx) {
    const components = ctx.components();
    const problems = await Promise.all(components.map(healthProblem));
    // The map first: on a projector it is what the room looks at; the table follows.
    const blocks: Block[] = [];
    if (ctx.jaegerUrl && !problems[components.findIndex((c) => c.name === 'Jaeger')]) {
      const map = serviceMap(await findJaegerTraces(ctx.jaegerUrl, { service: 'gateway', limit: 50, operation: 'POST /orders' }));
      blocks.push(
        map.edges.length
          ? map
          : { type: 'empty', text: 'No trace stored yet, so no service map: place an order on the Traces tab, or send traffic.', command: 'npm run traffic -- --target http://127.0.0.1:8080 --count 20' },
      );
    }
    blocks.push(
      {
        type: 'table',
        caption: 'Components',
        columns: ['component', 'role', 'address', 'health', 'log'],
        rows: components.map((c, i) => [
          c.name,
          c.role,
          { text: c.address, mono: true },
          problems[i] ? { text: 'down', tone: 'bad', title: problems[i] } : { text: 'up', tone: 'good' },
          { text: c.log, mono: true },
        ]),
      },
    );
    return blocks;
  },
});
