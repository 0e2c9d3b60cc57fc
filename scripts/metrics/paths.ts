// Lab 1 in one place: the paths a measurement takes into Prometheus, and the measurements the
// lab compares across them. Read by the tests (test/metrics/), the side-by-side table
// (scripts/metrics/main.ts); the Grafana dashboard
// (config/grafana/dashboards/lab1-scrape-vs-otlp.json) runs the same selectors.

/** Every series in the lab's Prometheus carries `lab_path`: one of these. */
export const LAB_PATHS = [
  { id: '1-scrape', how: 'Prometheus scrapes the prom-client /metrics' },
  { id: '2-otlp-collector-rw', how: 'SDK OTLP -> collector -> remote write' },
  { id: '3-collector-scrape', how: 'collector prometheus receiver scrapes /metrics -> remote write' },
  { id: '4-otlp-native', how: "SDK OTLP -> Prometheus's OTLP receiver" },
  { id: '5-delta-fixed', how: 'delta SDK -> deltatocumulative -> OTLP receiver' },
  { id: '5-delta-raw', how: 'delta SDK -> OTLP receiver (refused)' },
  { id: '5-delta-raw-rw', how: 'delta SDK -> remote write (sums and histograms dropped)' },
] as const;

export type LabPath = (typeof LAB_PATHS)[number]['id'];

/**
 * The service exporting with delta temporality preference: its OTLP goes to
 * collector/metrics-delta.yaml (path 5), the other services' to collector/metrics-otlp.yaml.
 */
export const DELTA_SERVICE = 'payments';

/** The paths on which a service's measurements are expected to arrive. */
export function pathsOf(service: string): LabPath[] {
  return service === DELTA_SERVICE
    ? ['1-scrape', '3-collector-scrape', '5-delta-fixed', '5-delta-raw', '5-delta-raw-rw']
    : ['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'];
}

export interface Measurement {
  title: string;
  service: string;
  /** The Prometheus series name (the services name both sides so that it is the same on every path). */
  metric: string;
  /** Extra label matchers, PromQL syntax. */
  matchers?: string;
}

// The services record each of these twice, with prom-client and the OTel API
// (services/shared/metrics.ts); the duration histogram's OTel side is instrumentation-http's.
export const MEASUREMENTS: Measurement[] = [
  { title: 'gateway POST /orders answered', service: 'gateway', metric: 'lab_http_server_requests_total', matchers: 'http_route="/orders"' },
  { title: 'gateway POST /orders duration: count', service: 'gateway', metric: 'http_server_request_duration_seconds_count', matchers: 'http_route="/orders"' },
  { title: 'gateway POST /orders duration: bucket 1 s', service: 'gateway', metric: 'http_server_request_duration_seconds_bucket', matchers: 'http_route="/orders", le=~"1|1[.]0"' },
  { title: 'gateway requests in flight', service: 'gateway', metric: 'lab_http_server_active_requests', matchers: 'http_request_method="POST"' },
  { title: 'orders published to Kafka', service: 'orders', metric: 'lab_orders_published_total' },
  { title: 'orders fulfilled from Kafka', service: 'fulfillment', metric: 'lab_orders_fulfilled_total' },
  { title: 'payments POST /payments answered (delta SDK)', service: 'payments', metric: 'lab_http_server_requests_total', matchers: 'http_route="/payments"' },
  { title: 'payments POST /payments duration: count (delta SDK)', service: 'payments', metric: 'http_server_request_duration_seconds_count', matchers: 'http_route="/payments"' },
  { title: 'gateway target up', service: 'gateway', metric: 'up' },
  { title: 'gateway resource (target_info)', service: 'gateway', metric: 'target_info' },
];

/**
 * The series of one service on one path. `job` differs by path: the scrape paths carry the
 * targets file's job ("gateway"), the OTLP paths service.namespace/service.name
 * ("otel-lab/gateway"): the regex matches both.
 */
export function selector(metric: string, service: string, path: LabPath, matchers?: string): string {
  return `${metric}{lab_path="${path}", job=~"(.+/)?${service}"${matchers ? `, ${matchers}` : ''}}`;
}

export function measurementSelector(m: Measurement, path: LabPath): string {
  return selector(m.metric, m.service, path, m.matchers);
}

/** Labels that identify where a series came from rather than what it measures. */
export const ORIGIN_LABELS = ['__name__', 'job', 'instance', 'lab_path', 'otel_scope_name', 'otel_scope_version', 'otel_scope_schema_url'];
