// Services, claim 6: prom-client (/metrics, what Prometheus scrapes) and the OTel SDK (OTLP,
// what the collector receives) count the same requests the same way: same series, same numbers,
// same histogram buckets. The traffic generator drives the requests.
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraffic, type TrafficResult } from '../../scripts/traffic/index.js';
import { waitFor, type Capture, type MetricPoint } from '../../scripts/runtime/index.js';
import { parsePromText } from '../../scripts/runtime/prom-text.js';
import { useLab } from '../support/lab.js';
import type { Services } from '../../scripts/runtime/services.js';
import { startShop } from './shop.js';

type Series = Map<string, number>;

/** `name{labels} value` lines of a Prometheus exposition, for one metric name, keyed by method/route/status. */
function scraped(text: string, name: string): Series {
  const out: Series = new Map();
  for (const { labels, value } of parsePromText(text).filter((s) => s.name === name)) {
    const key = `${labels.http_request_method ?? ''} ${labels.http_route ?? ''} ${labels.http_response_status_code ?? ''}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** The latest cumulative value of an OTLP metric per method/route/status (histograms: their count). */
function pushed(points: MetricPoint[], service: string, name: string): Series {
  const latest = new Map<string, MetricPoint>();
  for (const p of points) {
    if (p.service !== service || p.name !== name) continue;
    const id = JSON.stringify(Object.entries(p.attributes).sort());
    const prev = latest.get(id);
    if (!prev || BigInt(p.timeUnixNano) > BigInt(prev.timeUnixNano)) latest.set(id, p);
  }
  const out: Series = new Map();
  for (const p of latest.values()) {
    const a = p.attributes;
    const key = `${a['http.request.method'] ?? ''} ${a['http.route'] ?? ''} ${a['http.response.status_code'] ?? ''}`;
    out.set(key, (out.get(key) ?? 0) + (p.type === 'histogram' ? p.count! : p.value!));
  }
  return out;
}

/** Only the order path: /health and /metrics are also polled while the test runs, at other moments on each side. */
const orderPath = (s: Series) => new Map([...s].filter(([k]) => /^POST \/(orders|payments) /.test(k)));

describe('prom-client and OTLP agree on the same requests', () => {
  useLab();
  let capture: Capture;
  let services: Services;
  let traffic: TrafficResult;

  beforeAll(async () => {
    ({ capture, services } = await startShop({ env: { all: { OTEL_METRIC_EXPORT_INTERVAL: '1000' } } }));
    traffic = await runTraffic({ target: services.gateway.url, count: 12, concurrency: 3, mix: { ok: 2, error: 1, slow: 0 } });
    // Two requests the orders service refuses (400), a third status on the same route.
    for (const body of ['{"customer":1}', '{"item":"x"}']) {
      await fetch(`${services.gateway.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    }
  });

  it('sends the mix asked of the traffic generator, each outcome as its category asked', () => {
    expect(traffic).toMatchObject({ sent: 12, ok: 8, errors: 4, slow: 0, failed: 0 });
    expect(traffic.traceIds.ok).toHaveLength(8);
    expect(traffic.traceIds.error).toHaveLength(4);
  });

  for (const service of ['gateway', 'orders', 'payments'] as const) {
    it(`counts ${service}'s requests per route and status identically on /metrics and over OTLP`, async () => {
      const text = await fetch(services[service].metricsUrl).then((r) => r.text());
      const promRequests = orderPath(scraped(text, 'lab_http_server_requests_total'));
      const promDurations = orderPath(scraped(text, 'http_server_request_duration_seconds_count'));
      expect(promRequests.size).toBeGreaterThan(0);
      // The request counter and the duration histogram's count: the same requests.
      expect(promDurations).toEqual(promRequests);
      // Wait for the OTLP side to catch up, then assert after the wait (the last view is what is
      // compared, so a mismatch at the deadline shows as a diff, not as a retried throw).
      const same = (a: Series, b: Series) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
      let otlpRequests: Series = new Map();
      let otlpDurations: Series = new Map();
      await capture.waitForMetrics(
        (points) => {
          otlpRequests = orderPath(pushed(points, service, 'lab.http.server.requests'));
          otlpDurations = orderPath(pushed(points, service, 'http.server.request.duration'));
          return same(otlpRequests, promRequests) && same(otlpDurations, promDurations);
        },
        `${service}'s OTLP request counts to equal its /metrics`,
      ).catch(() => undefined);
      expect(otlpRequests).toEqual(promRequests);
      expect(otlpDurations).toEqual(promDurations);
    });
  }

  it('gives both histograms the same bucket boundaries', async () => {
    const text = await fetch(services.orders.metricsUrl).then((r) => r.text());
    const promBounds = [
      ...new Set([...text.matchAll(/^http_server_request_duration_seconds_bucket\{le="([^"]+)"/gm)].map((m) => m[1])),
    ]
      .filter((le) => le !== '+Inf')
      .map(Number);
    const point = await capture.waitForMetrics(
      (points) => points.find((p) => p.service === 'orders' && p.name === 'http.server.request.duration'),
      'orders http.server.request.duration',
    );
    expect(point.unit).toBe('s');
    expect(point.explicitBounds).toEqual(promBounds);
  });

  it('counts published and fulfilled orders identically on both sides', async () => {
    const published = Number(/^lab_orders_published_total (\S+)$/m.exec(await fetch(services.orders.metricsUrl).then((r) => r.text()))![1]);
    expect(published).toBe(traffic.ok);
    await capture.waitForMetrics((points) => {
      const otlp = pushed(points, 'orders', 'lab.orders.published');
      return [...otlp.values()].reduce((a, b) => a + b, 0) === published;
    }, `lab.orders.published = ${published}`);
    await waitFor(
      async () => {
        const text = await fetch(services.fulfillment.metricsUrl).then((r) => r.text());
        const fulfilled = Number(/^lab_orders_fulfilled_total (\S+)$/m.exec(text)![1]);
        const otlp = [...pushed(capture.metricPoints(), 'fulfillment', 'lab.orders.fulfilled').values()].reduce((a, b) => a + b, 0);
        return fulfilled === published && otlp === fulfilled;
      },
      { what: `lab_orders_fulfilled_total and lab.orders.fulfilled to reach ${published}`, timeoutMs: 20_000 },
    );
  });
});
