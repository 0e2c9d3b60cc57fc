// Lab 4's stores, natively: Prometheus 3 (OTLP receiver on), Jaeger v2 and the cicd collector
// role (collector/cicd.yaml) in front of them, on free loopback ports.
import { startCollector, type Collector } from '../runtime/collector.js';
import { startJaeger, type Jaeger } from '../runtime/jaeger.js';
import { startPrometheus, type Prometheus } from '../runtime/prometheus.js';

export interface CicdLab {
  jaeger: Jaeger;
  prometheus: Prometheus;
  collector: Collector;
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the reporter and the runner (OTLP/HTTP base URL). */
  otlpEndpoint: string;
}

export const CICD_COLLECTOR_CONFIG = 'collector/cicd.yaml';

export async function startCicdLab(): Promise<CicdLab> {
  const [jaeger, prometheus] = await Promise.all([startJaeger({ name: 'jaeger-cicd' }), startPrometheus({ name: 'prometheus-cicd' })]);
  const collector = await startCollector({
    config: CICD_COLLECTOR_CONFIG,
    env: {
      TRACES_EXPORT_ENDPOINT: jaeger.listen.OTLP_GRPC_LISTEN,
      METRICS_EXPORT_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
    },
  });
  return { jaeger, prometheus, collector, otlpEndpoint: collector.otlpHttp };
}
