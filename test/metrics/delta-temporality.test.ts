// Lab 1, delta temporality: payments exports with
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta (counters and histograms send what
// changed since the last export) to collector/metrics-delta.yaml, which forwards the same data
// three ways. Rules checked, and where they are documented:
//  - Prometheus 3.16 ingests OTLP sums and histograms as cumulative only; a delta one fails the
//    request with "invalid temporality and type combination" unless
//    --enable-feature=otlp-deltatocumulative (or otlp-native-delta-ingestion) is on
//    (Prometheus docs, feature_flags.md "OTLP Delta Conversion"; storage/remote/otlptranslator
//    metrics_to_prw.go). The handler rolls the whole request back and answers 500
//    (write_otlp_handler.go).
//  - The collector's deltatocumulative processor "converts metrics from delta temporality to
//    cumulative, by accumulating samples in memory" (processor/deltatocumulativeprocessor README).
//  - prometheusremotewrite: "Non-cumulative monotonic, histogram, and summary OTLP metrics are
//    dropped by this exporter" (exporter README); the rest of the batch is still sent and the
//    drop is counted in otelcol_exporter_prometheusremotewrite_failed_translations.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMix, runTraffic, type TrafficResult } from '../../scripts/traffic/index.js';
import { DELTA_SERVICE, selector } from '../../scripts/metrics/paths.js';
import { useLab } from '../support/lab.js';
import { collectorMetric, startLab1, type Lab1 } from '../../scripts/metrics/lab.js';

const PAYMENTS_POSTS = 'http_route="/payments", http_response_status_code="201"';

describe('delta temporality into Prometheus: refused, dropped, or converted by deltatocumulative', () => {
  useLab();
  let lab: Lab1;
  let traffic: TrafficResult;
  let windowSeconds: number;
  const started = Date.now();
  // A delta collector counter that must exist: missing (renamed, another exporter id) is a
  // failure, never a 0. Observed: exporterhelper exposes sent and send_failed for every exporter
  // from its first send, 0 included, so each series asserted here always exists.
  const counter = async (name: string, exporter: string) => {
    const value = await collectorMetric(lab.delta, name, { exporter });
    expect(value, `${name}{exporter="${exporter}"} on the delta collector`).toBeDefined();
    return value!;
  };

  beforeAll(async () => {
    lab = await startLab1();
    // Spread over several export intervals (1 s), so every interval carries deltas.
    traffic = await runTraffic({ target: lab.services.gateway.url, durationSeconds: 5, rate: 4, concurrency: 2, mix: parseMix('ok=1') });
    expect(traffic.failed, JSON.stringify(traffic.failures)).toBe(0);
    // The scrape of payments (path 1) is the reference count.
    await lab.waitForValue(selector('lab_http_server_requests_total', DELTA_SERVICE, '1-scrape', PAYMENTS_POSTS), traffic.ok);
    windowSeconds = Math.ceil((Date.now() - started) / 1000) + 5;
  });

  it('with deltatocumulative (5-delta-fixed) the delta counter adds up to the scrape\'s count', async () => {
    await lab.waitForValue(selector('lab_http_server_requests_total', DELTA_SERVICE, '5-delta-fixed', PAYMENTS_POSTS), traffic.ok);
  });

  it('with deltatocumulative the delta histogram becomes cumulative buckets with the scrape\'s count', async () => {
    await lab.waitForValue(selector('http_server_request_duration_seconds_count', DELTA_SERVICE, '5-delta-fixed', PAYMENTS_POSTS), traffic.ok);
    await lab.waitForValue(selector('http_server_request_duration_seconds_bucket', DELTA_SERVICE, '5-delta-fixed', `${PAYMENTS_POSTS}, le="+Inf"`), traffic.ok);
  });

  it('without conversion Prometheus refuses delta sums and histograms: the counter never appears, the collector counts failed sends', async () => {
    expect(await lab.query(selector('lab_http_server_requests_total', DELTA_SERVICE, '5-delta-raw'))).toEqual([]);
    expect(await lab.query(selector('http_server_request_duration_seconds_count', DELTA_SERVICE, '5-delta-raw'))).toEqual([]);
    expect(await counter('otelcol_exporter_send_failed_metric_points_total', 'otlp_http/raw')).toBeGreaterThan(0);
    expect(await counter('otelcol_exporter_sent_metric_points_total', 'otlp_http/fixed')).toBeGreaterThan(0);
    expect(await counter('otelcol_exporter_send_failed_metric_points_total', 'otlp_http/fixed')).toBe(0);
    const log = readFileSync(lab.prometheus.process.logFile, 'utf8');
    expect(log).toContain('invalid temporality and type combination for metric \\"lab.http.server.requests\\"');
  });

  it('a refused request is refused whole: the in-flight gauge sent with the deltas loses samples too', async () => {
    const samples = async (path: string) =>
      (await lab.query(`count_over_time(${selector('lab_http_server_active_requests', DELTA_SERVICE, path as any)}[${windowSeconds}s])`))
        .reduce((sum, s) => sum + s.value, 0);
    const fixed = await samples('5-delta-fixed');
    const raw = await samples('5-delta-raw');
    expect(fixed, 'one sample per export on the converted path').toBeGreaterThanOrEqual(5);
    expect(raw).toBeLessThan(fixed);
  });

  it('remote write without conversion drops the delta counter, sends the gauge, and says so only in failed_translations', async () => {
    await lab.waitForSeries(selector('lab_http_server_active_requests', DELTA_SERVICE, '5-delta-raw-rw'));
    expect(await lab.query(selector('lab_http_server_requests_total', DELTA_SERVICE, '5-delta-raw-rw'))).toEqual([]);
    expect(await lab.query(selector('http_server_request_duration_seconds_count', DELTA_SERVICE, '5-delta-raw-rw'))).toEqual([]);
    expect(await counter('otelcol_exporter_prometheusremotewrite_failed_translations_total', 'prometheusremotewrite/raw')).toBeGreaterThan(0);
    expect(await counter('otelcol_exporter_sent_metric_points_total', 'prometheusremotewrite/raw')).toBeGreaterThan(0);
    expect(await counter('otelcol_exporter_send_failed_metric_points_total', 'prometheusremotewrite/raw')).toBe(0);
  });
});
