// Lab 1, "When Prometheus met OpenTelemetry": the SAME measurements of the real services reach
// one Prometheus by four paths at once (scrape, OTLP -> collector -> remote write, collector
// scrape -> remote write, OTLP -> Prometheus's own receiver). What does each path call them,
// how does it label them, and where do histogram buckets end up? The rules checked, and where
// they are documented:
//  - OTLP naming, both translators: dots -> underscores, unit suffixes (s -> _seconds,
//    By -> _bytes, {annotations} dropped), _total on monotonic sums, _bucket/_sum/_count:
//    Prometheus `otlp.translation_strategy: UnderscoreEscapingWithSuffixes`
//    (prometheus.io/docs/prometheus/latest/configuration/configuration/#otlp) and the
//    collector's pkg/translator/prometheus README (used by prometheusremotewrite).
//  - job = service.namespace/service.name, instance = service.instance.id, other resource
//    attributes on target_info only (keep_identifying_resource_attributes: false; exporter's
//    target_info.enabled: true): same pages, and the OTel "Prometheus and OpenMetrics
//    compatibility" spec.
//  - otel_scope_name/version: Prometheus `otlp.promote_scope_metadata` (on in this lab);
//    the collector's remote write translator has no such labels.
//  - prometheus receiver: job -> service.name, instance -> service.instance.id, plus
//    server.address/server.port/url.scheme on the resource (receiver/prometheusreceiver,
//    internal/prom_to_otlp.go CreateResource), so remote write makes a target_info of those.
//  - le: "In Prometheus v3 ... the values of the le label of classic histograms ... are
//    normalized upon ingestion ... le="1" -> le="1.0"" (Prometheus 3.0 migration guide);
//    the OTLP translators format bounds with the shortest form ("1").
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMix, runTraffic } from '../../scripts/traffic/index.js';
import { selector, type LabPath } from '../../scripts/metrics/paths.js';
import { HTTP_DURATION_BUCKETS } from '../../services/shared/metrics.js';
import { parsePromText } from '../../scripts/runtime/prom-text.js';
import { useLab } from '../support/lab.js';
import { startLab1, type Lab1 } from '../../scripts/metrics/lab.js';

const OTLP_PATHS: LabPath[] = ['2-otlp-collector-rw', '4-otlp-native'];
const ALL_PATHS: LabPath[] = ['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'];
const LEGACY_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Metric family names of a Prometheus text exposition (sample lines, HELP/TYPE skipped). */
function exposedNames(text: string): Set<string> {
  return new Set(parsePromText(text).map((s) => s.name));
}

describe('the same measurements by four paths: names, labels and histogram buckets', () => {
  useLab();
  let lab: Lab1;
  const namesOf = (path: LabPath, service: string) => lab.metricNames(`{lab_path="${path}", job=~"(.+/)?${service}"}`);
  const ordersSeries = (metric: string, path: LabPath) =>
    lab.waitForSeries(selector(metric, 'gateway', path, 'http_route="/orders", http_response_status_code="201"'));

  beforeAll(async () => {
    lab = await startLab1();
    const traffic = await runTraffic({ target: lab.services.gateway.url, count: 12, concurrency: 4, mix: parseMix('ok=1') });
    expect(traffic.ok, 'every order accepted').toBe(12);
    // Every path has delivered the gateway's request counter: the rest arrived with it.
    for (const path of ALL_PATHS) await lab.waitForValue(selector('lab_http_server_requests_total', 'gateway', path, 'http_route="/orders"'), 12);
  });

  describe('names', () => {
    it('a scrape (path 1) stores the names prom-client exposes, verbatim', async () => {
      const exposed = exposedNames(await (await fetch(lab.services.gateway.metricsUrl)).text());
      const stored = new Set(await namesOf('1-scrape', 'gateway'));
      // up and scrape_* are Prometheus's own per-target series, not the app's.
      for (const own of ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']) {
        expect(stored.delete(own), own).toBe(true);
      }
      expect([...stored].sort()).toEqual([...exposed].sort());
    });

    it('OTLP counters get _total and a {annotation} unit adds nothing: lab.orders.published {order} -> lab_orders_published_total', async () => {
      for (const path of OTLP_PATHS) {
        const names = await namesOf(path, 'orders');
        expect(names, path).toContain('lab_orders_published_total');
        expect(names.filter((n) => n.startsWith('lab_orders_published')), path).toEqual(['lab_orders_published_total']);
      }
    });

    it('unit s becomes _seconds and a histogram becomes _bucket, _sum and _count: http.server.request.duration -> http_server_request_duration_seconds_*', async () => {
      for (const path of OTLP_PATHS) {
        const names = (await namesOf(path, 'gateway')).filter((n) => n.startsWith('http_server_request_duration'));
        expect(names.sort(), path).toEqual([
          'http_server_request_duration_seconds_bucket',
          'http_server_request_duration_seconds_count',
          'http_server_request_duration_seconds_sum',
        ]);
      }
    });

    it('unit By becomes _bytes, and a gauge gets no _total: v8js.memory.heap.used -> v8js_memory_heap_used_bytes', async () => {
      for (const path of OTLP_PATHS) {
        const names = await namesOf(path, 'gateway');
        expect(names, path).toContain('v8js_memory_heap_used_bytes');
        expect(names, path).not.toContain('v8js_memory_heap_used_bytes_total');
      }
    });

    it('an UpDownCounter is a gauge for Prometheus, no _total: lab.http.server.active_requests -> lab_http_server_active_requests', async () => {
      for (const path of OTLP_PATHS) {
        const names = await namesOf(path, 'gateway');
        expect(names, path).toContain('lab_http_server_active_requests');
        expect(names.some((n) => n.startsWith('lab_http_server_active_requests_')), path).toBe(false);
      }
    });

    it('UnderscoreEscapingWithSuffixes: no OTLP metric or label name keeps a dot', async () => {
      for (const path of OTLP_PATHS) {
        const names = await namesOf(path, 'gateway');
        expect(names, path).toContain('lab_http_server_requests_total');
        for (const name of names) expect(name, path).toMatch(LEGACY_NAME);
        const [series] = await ordersSeries('http_server_request_duration_seconds_count', path);
        for (const label of Object.keys(series.labels)) expect(label, path).toMatch(LEGACY_NAME);
        expect(series.labels.http_request_method, 'http.request.method -> http_request_method').toBe('POST');
      }
    });

    it('the prometheus receiver round trip (path 3) keeps every exposed name and adds only target_info', async () => {
      const scraped = await namesOf('1-scrape', 'gateway');
      const roundTrip = await namesOf('3-collector-scrape', 'gateway');
      // up and scrape_* are on both: Prometheus's own on path 1, the receiver's (sent as data) on path 3.
      expect(roundTrip.sort()).toEqual([...scraped, 'target_info'].sort());
    });
  });

  describe('labels', () => {
    it('scrape paths (1, 3): job is the target\'s job, instance its host:port', async () => {
      const address = new URL(lab.services.gateway.url).host;
      for (const path of ['1-scrape', '3-collector-scrape'] as LabPath[]) {
        const [s] = await ordersSeries('lab_http_server_requests_total', path);
        expect(s.labels.job, path).toBe('gateway');
        expect(s.labels.instance, path).toBe(address);
      }
    });

    it('OTLP paths (2, 4): job is service.namespace/service.name, instance is service.instance.id', async () => {
      const instances = new Set<string>();
      for (const path of OTLP_PATHS) {
        const [s] = await ordersSeries('lab_http_server_requests_total', path);
        expect(s.labels.job, path).toBe('otel-lab/gateway');
        expect(s.labels.instance, path).toMatch(/^[0-9a-f-]{36}$/);
        expect(s.labels.service_name, 'no service_name label on the series').toBeUndefined();
        instances.add(s.labels.instance);
      }
      expect(instances.size, 'both translators read the same resource').toBe(1);
    });

    it('resource attributes go to target_info, not onto the series; service.* are not repeated there', async () => {
      for (const path of OTLP_PATHS) {
        const [info] = await lab.waitForSeries(selector('target_info', 'gateway', path));
        expect(info.labels, path).toMatchObject({ job: 'otel-lab/gateway', telemetry_sdk_language: 'nodejs', process_runtime_name: 'nodejs' });
        expect(info.labels.host_name, path).toBeTruthy();
        expect(info.labels.service_name ?? info.labels.service_namespace, 'keep_identifying_resource_attributes: false').toBeUndefined();
        const [series] = await ordersSeries('lab_http_server_requests_total', path);
        expect(series.labels.telemetry_sdk_language, path).toBeUndefined();
      }
    });

    it('Prometheus promotes the instrumentation scope to otel_scope_name/otel_scope_version; the collector\'s remote write drops it', async () => {
      const [native] = await ordersSeries('http_server_request_duration_seconds_count', '4-otlp-native');
      expect(native.labels.otel_scope_name).toBe('@opentelemetry/instrumentation-http');
      expect(native.labels.otel_scope_version).toMatch(/^\d+\.\d+\.\d+/);
      const [own] = await ordersSeries('lab_http_server_requests_total', '4-otlp-native');
      expect(own.labels.otel_scope_name, "the services' own meter").toBe('otel-lab-services');
      const [rw] = await ordersSeries('http_server_request_duration_seconds_count', '2-otlp-collector-rw');
      expect(Object.keys(rw.labels).filter((l) => l.startsWith('otel_scope'))).toEqual([]);
    });

    it('the prometheus receiver (path 3) keeps job, instance and every exposed label, and adds target_info{server_port, url_scheme}', async () => {
      const strip = ({ lab_path, ...rest }: Record<string, string>) => rest;
      const [scraped] = await ordersSeries('lab_http_server_requests_total', '1-scrape');
      const [roundTrip] = await ordersSeries('lab_http_server_requests_total', '3-collector-scrape');
      expect(strip(roundTrip.labels)).toEqual(strip(scraped.labels));
      const [info] = await lab.waitForSeries(selector('target_info', 'gateway', '3-collector-scrape'));
      expect(strip(info.labels)).toEqual({
        __name__: 'target_info',
        job: 'gateway',
        instance: scraped.labels.instance,
        server_port: new URL(lab.services.gateway.url).port,
        url_scheme: 'http',
        // server.address is left out for loopback hosts; in compose it is the service name.
      });
    });
  });

  describe('histogram buckets', () => {
    const leValues = async (path: LabPath) =>
      (await ordersSeries('http_server_request_duration_seconds_bucket', path)).map((s) => s.labels.le);
    const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le));
    const sortLe = (les: string[]) => [...les].sort((a, b) => bound(a) - bound(b));

    it('the same boundaries on every path: instrumentation-http\'s [0.005 … 10] s and +Inf', async () => {
      for (const path of ALL_PATHS) {
        expect(sortLe(await leValues(path)).map(bound), path).toEqual([...HTTP_DURATION_BUCKETS, Infinity]);
      }
    });

    it('Prometheus 3 normalizes le on scrape (le="1.0", "10.0"); the receiver and both OTLP translators write "1", "10"', async () => {
      const floatForm = HTTP_DURATION_BUCKETS.map((b) => (Number.isInteger(b) ? b.toFixed(1) : String(b)));
      const shortest = HTTP_DURATION_BUCKETS.map(String);
      expect(sortLe(await leValues('1-scrape'))).toEqual([...floatForm, '+Inf']);
      for (const path of ['2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'] as LabPath[]) {
        expect(sortLe(await leValues(path)), path).toEqual([...shortest, '+Inf']);
      }
      // So a dashboard query written as le="1" finds nothing on the scrape path.
      expect(await lab.query(selector('http_server_request_duration_seconds_bucket', 'gateway', '1-scrape', 'le="1"'))).toEqual([]);
    });
  });
});
