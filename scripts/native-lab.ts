// The native lab's topology as one function: what `npm run lab` (scripts/lab.ts) runs and what
// the console's tests start. The same shape as compose's `everything` for traces and Lab 1:
// Kafka, Jaeger v2, Lab 1's Prometheus and its three metrics collectors (collector/metrics-*.yaml,
// every series tagged with its lab_path), the agent collector for traces, the four services.
import { startCollector, type Collector } from './runtime/collector.js';
import { startJaeger, type Jaeger } from './runtime/jaeger.js';
import { startKafka, type Kafka } from './runtime/kafka.js';
import { SERVICE_NAMES, startServices, type ServiceName, type Services } from './runtime/services.js';
import { startMetricsLab, type MetricsLab } from './metrics/lab.js';
import { DELTA_SERVICE } from './metrics/paths.js';
import type { ComponentInfo } from './console/context.js';

export interface NativeLabPorts {
  otlpGrpc?: number;
  otlpHttp?: number;
  jaegerUi?: number;
  prometheus?: number;
  kafka?: number;
  gateway?: number;
  orders?: number;
  payments?: number;
  fulfillment?: number;
}

export interface NativeLab {
  kafka: Kafka;
  jaeger: Jaeger;
  metrics: MetricsLab;
  agent: Collector;
  services: Services;
  /** Every component with its address, health check and log, for the console's Overview. */
  components(): ComponentInfo[];
}

/** Starts the native lab on the given ports (free loopback ports for the ones not given). */
export async function startNativeLab(ports: NativeLabPorts = {}, step: (msg: string) => void = () => {}): Promise<NativeLab> {
  step('starting Kafka, Jaeger, Prometheus and the metrics collectors …');
  const [kafka, jaeger, metrics] = await Promise.all([
    startKafka('kafka', { port: ports.kafka }),
    startJaeger({ env: ports.jaegerUi ? { QUERY_HTTP_LISTEN: `127.0.0.1:${ports.jaegerUi}` } : {} }),
    startMetricsLab({ prometheusPort: ports.prometheus }),
  ]);
  step('starting the agent collector …');
  const agent = await startCollector({
    config: 'collector/agent.yaml',
    env: {
      ...(ports.otlpGrpc ? { OTLP_GRPC_LISTEN: `127.0.0.1:${ports.otlpGrpc}` } : {}),
      ...(ports.otlpHttp ? { OTLP_HTTP_LISTEN: `127.0.0.1:${ports.otlpHttp}` } : {}),
      TRACES_EXPORT_ENDPOINT: jaeger.otlpGrpc,
      METRICS_EXPORT_ENDPOINT: `${metrics.prometheus.url}/api/v1/otlp`,
    },
  });
  step('starting the services (gateway, orders, payments, fulfillment) …');
  // As in compose: traces to the agent, metrics to Lab 1's OTLP tee; payments exports delta
  // temporality to the delta collector (Lab 1's path 5).
  const services = await startServices({
    otlpEndpoint: agent.otlpHttp,
    kafkaBootstrap: kafka.bootstrap,
    ports: { gateway: ports.gateway, orders: ports.orders, payments: ports.payments, fulfillment: ports.fulfillment },
    env: {
      all: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${metrics.otlp.otlpHttp}/v1/metrics` },
      [DELTA_SERVICE]: {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${metrics.delta.otlpHttp}/v1/metrics`,
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      },
    },
  });
  metrics.setScrapeTargets(SERVICE_NAMES.map((s) => ({ job: s, address: new URL(services[s].url).host })));

  const lab: NativeLab = {
    kafka,
    jaeger,
    metrics,
    agent,
    services,
    components: () => [
      { name: 'Jaeger', role: 'trace store (query API)', address: lab.jaeger.queryUrl, health: `http://${lab.jaeger.listen.HEALTH_LISTEN}/status`, log: lab.jaeger.process.logFile },
      { name: 'Prometheus', role: 'metrics store (Lab 1)', address: metrics.prometheus.url, health: `${metrics.prometheus.url}/-/ready`, log: metrics.prometheus.process.logFile },
      { name: 'Kafka', role: 'broker (orders topic)', address: kafka.bootstrap, health: `tcp://${kafka.bootstrap}`, log: kafka.process.logFile },
      ...[agent, metrics.otlp, metrics.scraper, metrics.delta].map((c) => ({
        name: `collector ${c.name}`,
        role: c === agent ? 'agent: traces to Jaeger' : 'Lab 1 metrics path',
        address: c.otlpHttp || `health ${c.listen.HEALTH_LISTEN}`,
        health: `http://${c.listen.HEALTH_LISTEN}/`,
        log: c.process.logFile,
        telemetry: c.telemetryUrl,
      })),
      ...SERVICE_NAMES.map((s: ServiceName) => ({
        name: s,
        role: 'demo service',
        address: services[s].url,
        health: `${services[s].url}/health`,
        log: services[s].process.logFile,
      })),
    ],
  };
  return lab;
}
