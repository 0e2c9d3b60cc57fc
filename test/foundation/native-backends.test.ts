// Foundation: the native lab's backends are the real ones. The hello program's span reaches
// Jaeger v2 (read back through its query API) and its counter reaches Prometheus 3 through
// the agent collector and Prometheus's own OTLP receiver (read back with PromQL).
import { beforeAll, describe, expect, it } from 'vitest';
import { startCollector, startJaeger, startPrometheus, waitFor, type Jaeger, type Prometheus } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { runHelloProgram } from './run-hello.js';

describe('the native backends: Jaeger v2 and Prometheus 3 behind the agent collector', () => {
  useLab();
  let jaeger: Jaeger;
  let prometheus: Prometheus;

  beforeAll(async () => {
    [jaeger, prometheus] = await Promise.all([startJaeger(), startPrometheus()]);
    const agent = await startCollector({
      config: 'collector/agent.yaml',
      env: {
        TRACES_EXPORT_ENDPOINT: jaeger.otlpGrpc,
        METRICS_EXPORT_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
      },
    });
    await runHelloProgram(agent.otlpHttp);
  });

  it('Jaeger lists the service and returns its trace through the query API', async () => {
    await waitFor(
      async () => {
        const res = await fetch(`${jaeger.queryUrl}/api/services`);
        return ((await res.json()) as { data: string[] | null }).data?.includes('hello');
      },
      { what: 'Jaeger to list service "hello"' },
    );
    const res = await fetch(`${jaeger.queryUrl}/api/traces?service=hello&limit=5`);
    const traces = ((await res.json()) as { data: { traceID: string }[] }).data;
    expect(traces).toHaveLength(1);
    const spans = await jaeger.trace(traces[0].traceID);
    expect(spans.map((s) => s.name)).toEqual(['say hello']);
    expect(spans[0].attributes['lab.greeting']).toBe('hello, collector');
  });

  it('Prometheus stores the OTLP counter as lab_hello_greetings_total with job = service.name', async () => {
    const samples = await waitFor(
      async () => {
        const r = await prometheus.query('lab_hello_greetings_total');
        return r.length > 0 && r;
      },
      { what: 'lab_hello_greetings_total in Prometheus' },
    );
    expect(samples).toHaveLength(1);
    expect(samples[0].value).toBe(3);
    expect(samples[0].labels.job).toBe('hello');
    expect(samples[0].labels.lab_language).toBe('en');
  });
});
