// Foundation: an instrumented program's span and metric go through the REAL collector
// (collector/agent.yaml, the services' first hop) and come out with what the program put in.
import { beforeAll, describe, expect, it } from 'vitest';
import { startCapture, startCollector, type Capture, type Collector } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { runHelloProgram } from './run-hello.js';

describe('an instrumented program through the agent collector', () => {
  useLab();
  let capture: Capture;
  let agent: Collector;

  beforeAll(async () => {
    capture = await startCapture();
    agent = await startCollector({
      config: 'collector/agent.yaml',
      env: { TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: capture.otlpHttp },
    });
    await runHelloProgram(agent.otlpHttp, {
      OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=otel-lab,deployment.environment.name=test',
    });
  });

  it('delivers the span with its name, attributes and service.name', async () => {
    const span = await capture.waitForSpans((s) => s.find((x) => x.name === 'say hello'), 'span "say hello"');
    expect(span.service).toBe('hello');
    expect(span.resource['service.namespace']).toBe('otel-lab');
    expect(span.attributes['lab.greeting']).toBe('hello, collector');
    expect(span.scope.name).toBe('otel-lab-hello');
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('delivers the counter with its value, unit and attributes', async () => {
    const point = await capture.waitForMetrics(
      (p) => p.find((x) => x.name === 'lab.hello.greetings'),
      'metric lab.hello.greetings',
    );
    expect(point.service).toBe('hello');
    expect(point.type).toBe('sum');
    expect(point.monotonic).toBe(true);
    expect(point.value).toBe(3);
    expect(point.unit).toBe('{greeting}');
    expect(point.attributes).toEqual({ 'lab.language': 'en' });
  });
});
