// The smallest instrumented program: one span and one counter increment, sent through the SDK
// bootstrap the services use, then a clean shutdown that flushes both. The foundation test
// runs it against the real collector.
import { metrics, trace } from '@opentelemetry/api';
import { sdk } from '../../services/shared/telemetry.js';

const tracer = trace.getTracer('otel-lab-hello');
const counter = metrics.getMeter('otel-lab-hello').createCounter('lab.hello.greetings', {
  description: 'Greetings said by the hello program',
  unit: '{greeting}',
});

tracer.startActiveSpan('say hello', (span) => {
  span.setAttribute('lab.greeting', 'hello, collector');
  counter.add(3, { 'lab.language': 'en' });
  span.end();
});

await sdk.shutdown();
