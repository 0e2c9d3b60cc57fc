// LAB_RUNTIME=docker, checked on its own: the harness's docker variants start the lab's images
// (the same ones compose runs) with the same config files and return the same shapes as the
// native harness. The sampling-with-Kafka path runs through them end to end here: Kafka, the
// LB (lb-kafka.yaml), a sampler (sampler.yaml + sampler-kafka.yaml) and a capture collector,
// each in its own container.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARNESS_LABEL, image, prepareDocker } from '../../scripts/runtime/docker.js';
import { startCollectorInDocker } from '../../scripts/runtime/collector.js';
import { startKafkaInDocker, type Kafka } from '../../scripts/runtime/kafka.js';
import { startPrometheusInDocker } from '../../scripts/runtime/prometheus.js';
import { artifact, runDir, waitFor, type Collector, type Span } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { capturedSpans } from '../../scripts/runtime/capture.js';
import { readJaegerTrace } from '../../scripts/runtime/jaeger.js';

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** One trace of two spans (server + client) as OTLP/JSON; status ERROR on the server span if asked. */
function trace(traceId: string, error: boolean) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (name: string, kind: number, parent = '') => ({
    traceId,
    spanId: hex(8),
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: String(now),
    endTimeUnixNano: String(now + 5_000_000n),
    status: error && kind === 2 ? { code: 2, message: 'payment declined' } : {},
  });
  const server = span('POST /orders', 2);
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'docker-runtime-test' } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans: [server, span('POST /payments', 3, server.spanId)] }],
      },
    ],
  };
}

/** Images of the containers this test process started (other test files may run the same images). */
const labContainers = () =>
  execFileSync('docker', ['ps', '--filter', `label=${HARNESS_LABEL}=${process.pid}`, '--format', '{{.Image}}'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe('LAB_RUNTIME=docker: the harness runs the lab in containers of the lab images', () => {
  // Registered before useLab(): after-hooks run in reverse, so this runs once useLab stopped everything.
  afterAll(() => {
    expect(labContainers(), 'lab containers left running').toEqual([]);
  });
  useLab();

  let kafka: Kafka;
  let lb: Collector;
  let captureDir: string;

  beforeAll(async () => {
    await prepareDocker();
    kafka = await startKafkaInDocker('kafka-docker-runtime');
    await kafka.createTopics([{ topic: 'otlp_spans', numPartitions: 4 }]);
    captureDir = runDir('capture-docker');
    const capture = await startCollectorInDocker({ config: 'collector/capture.yaml', name: 'capture', env: { CAPTURE_DIR: captureDir } });
    await startCollectorInDocker({
      config: ['collector/sampler.yaml', 'collector/sampler-kafka.yaml'],
      name: 'sampler-1',
      env: {
        SAMPLER_ID: 'sampler-1',
        KAFKA_BROKERS: kafka.bootstrap,
        TRACES_EXPORT_ENDPOINT: capture.otlpGrpc,
        // Keep errors only: a kept OK trace could only be a bug.
        KEEP_PERCENT: '0',
        SLOW_TRACE_MS: '60000',
        DECISION_WAIT: '2s',
      },
    });
    lb = await startCollectorInDocker({ config: 'collector/lb-kafka.yaml', name: 'lb-kafka', env: { KAFKA_BROKERS: kafka.bootstrap } });
  });

  it('starts Kafka, the LB, the sampler and the capture from the lab images', () => {
    const running = labContainers();
    expect(running.filter((i) => i === image('COLLECTOR_IMAGE'))).toHaveLength(3);
    expect(running).toContain(image('KAFKA_IMAGE'));
  });

  it('keeps the error trace and drops the OK one, through Kafka', async () => {
    const ok = hex(16);
    const error = hex(16);
    // The OK trace first: by the time the error trace comes out, the OK one has been decided.
    for (const [id, isError] of [[ok, false], [error, true]] as const) {
      const res = await fetch(`${lb.otlpHttp}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(trace(id, isError)),
      });
      expect(res.status, await res.text()).toBe(200);
    }
    const kept = await waitFor(
      () => {
        const spans = capturedSpans(captureDir).filter((s) => s.traceId === error);
        return spans.length === 2 && spans;
      },
      { what: 'both spans of the error trace in the capture (LB -> Kafka -> sampler -> capture)', timeoutMs: 60_000 },
    );
    expect(kept.map((s) => s.resource['lab.sampler'])).toEqual(['sampler-1', 'sampler-1']);
    expect(capturedSpans(captureDir).filter((s) => s.traceId === ok)).toEqual([]);
  });

  it('runs Prometheus with its OTLP receiver, answering queries like the native one', async () => {
    const prometheus = await startPrometheusInDocker({ name: 'prometheus-docker' });
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const res = await fetch(prometheus.otlpMetricsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'docker-runtime-test' } }] },
            scopeMetrics: [
              {
                scope: { name: 'test' },
                metrics: [{ name: 'lab.orders', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asInt: '7', timeUnixNano: now }] } }],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status, await res.text()).toBe(200);
    const samples = await waitFor(async () => {
      const s = await prometheus.query('lab_orders_total');
      return s.length > 0 && s;
    }, { what: 'lab_orders_total in Prometheus (docker)' });
    expect(samples[0].labels.job).toBe('docker-runtime-test');
    expect(samples[0].value).toBe(7);
  });

  it('runs Jaeger v2 from its image with config/jaeger/jaeger.yaml, as startJaeger does natively', async () => {
    // startJaeger() is startCollector() with the Jaeger binary: in docker, the Jaeger image.
    const jaeger = await startCollectorInDocker({ config: 'config/jaeger/jaeger.yaml', binary: artifact('jaeger'), healthPath: '/status', name: 'jaeger' });
    const id = hex(16);
    const res = await fetch(`${jaeger.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(trace(id, false)) });
    expect(res.status, await res.text()).toBe(200);
    const spans = await waitFor(async () => {
      const got = await readJaegerTrace(`http://${jaeger.listen.QUERY_HTTP_LISTEN}`, id);
      return got.length === 2 && got;
    }, { what: `trace ${id} through Jaeger's API v3 (docker)` });
    expect(spans.map((s) => s.name).sort()).toEqual(['POST /orders', 'POST /payments']);
  });
});
