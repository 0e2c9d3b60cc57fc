// Lab 1, "dots vs underscores": Prometheus 3 accepts UTF-8 names, and its OTLP receiver's
// `otlp.translation_strategy` decides whether OTLP names keep their dots. The lab runs the
// default (UnderscoreEscapingWithSuffixes); this scenario runs the same services with
// NoUTF8EscapingWithSuffixes: "preserves all special characters like dots, but still adds
// required metric name suffixes for units and _total" (Prometheus configuration docs, `otlp:`).
// The setting is Prometheus's: the collector's remote write (path 2) still escapes, so one
// Prometheus now holds both spellings of the same measurement. UTF-8 names are quoted in PromQL:
// {"http.server.request.duration_seconds_count", "http.route"="/orders"}.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMix, runTraffic } from '../../scripts/traffic/index.js';
import { selector } from '../../scripts/metrics/paths.js';
import { useLab } from '../support/lab.js';
import { startLab1, type Lab1 } from '../../scripts/metrics/lab.js';

// lab.path is promoted from the resource, so under this strategy its label keeps the dot too.
const NATIVE = '"lab.path"="4-otlp-native", job="otel-lab/gateway"';

describe('translation_strategy NoUTF8EscapingWithSuffixes: OTLP names keep their dots', () => {
  useLab();
  let lab: Lab1;

  beforeAll(async () => {
    lab = await startLab1({ otlp: { translation_strategy: 'NoUTF8EscapingWithSuffixes' } });
    const traffic = await runTraffic({ target: lab.services.gateway.url, count: 6, concurrency: 3, mix: parseMix('ok=1') });
    expect(traffic.ok).toBe(6);
  });

  it('metric names keep the dots and still get unit and type suffixes: lab.http.server.requests_total, http.server.request.duration_seconds_*', async () => {
    await lab.waitForValue(`{"lab.http.server.requests_total", ${NATIVE}, "http.route"="/orders"}`, 6);
    const names = await lab.metricNames(`{${NATIVE}}`);
    expect(names).toEqual(expect.arrayContaining([
      'http.server.request.duration_seconds_bucket',
      'http.server.request.duration_seconds_count',
      'http.server.request.duration_seconds_sum',
      'lab.http.server.active_requests',
      'v8js.memory.heap.used_bytes',
    ]));
    expect(names.filter((n) => /^[a-z0-9_]+$/.test(n) && n !== 'target_info'), 'no escaped name left').toEqual([]);
  });

  it('attribute keys keep their dots as label names: http.route, http.request.method', async () => {
    const [series] = await lab.waitForSeries(`{"http.server.request.duration_seconds_count", ${NATIVE}, "http.route"="/orders"}`);
    expect(series.labels).toMatchObject({ 'http.route': '/orders', 'http.request.method': 'POST', 'lab.path': '4-otlp-native' });
    expect(series.labels.http_route).toBeUndefined();
  });

  it('the collector\'s remote write (path 2) is not affected: same data, still escaped', async () => {
    await lab.waitForValue(selector('lab_http_server_requests_total', 'gateway', '2-otlp-collector-rw', 'http_route="/orders"'), 6);
    expect(await lab.query(`{"lab.http.server.requests_total", lab_path="2-otlp-collector-rw"}`)).toEqual([]);
  });
});
