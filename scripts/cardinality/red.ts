// Lab 6, part 3: RED metrics before and after tail sampling. Lab 2's direct topology
// (scripts/sampling/lab.ts: services -> 2 LBs -> 2 tail samplers), with the same spanmetrics
// overlay in two places:
//
//   before   the LB tier: lb.yaml + spanmetrics.yaml (lab_tier="before-sampling"), every span
//   after    one collector between the samplers and the store: agent.yaml + spanmetrics.yaml
//            (lab_tier="after-sampling"), the kept traces only — where a backend that derives
//            metrics from stored traces stands
//
// Both write to one Prometheus. The truth is the services' own request counters (prom-client,
// scraped from each service's /metrics): span-derived counts before the sampler equal them;
// after it they are what the sampler kept, errors whole and ok orders at its share.
import { startCapture } from '../runtime/capture.js';
import { startCollector, type Collector } from '../runtime/collector.js';
import { scrape, sumOf } from '../runtime/prom-text.js';
import { instantQuery, startPrometheus, type Prometheus } from '../runtime/prometheus.js';
import { waitFor } from '../runtime/wait.js';
import { startSamplingLab, SAMPLER_ENV, type SamplingLab } from '../sampling/lab.js';
import { analyse, waitForDecisions, type SamplingReport, type TraceIds } from '../sampling/report.js';
import { CALLS, SPANMETRICS_OVERLAY } from './exemplars.js';

export const TIERS = ['before-sampling', 'after-sampling'] as const;
export type Tier = (typeof TIERS)[number];

/** The request each service answers for an order: its SERVER span, its counter's route. */
export const ENDPOINTS = {
  gateway: { span: 'POST /orders', route: '/orders' },
  orders: { span: 'POST /orders', route: '/orders' },
  payments: { span: 'POST /payments', route: '/payments' },
} as const;
export type RedService = keyof typeof ENDPOINTS;
export const RED_SERVICES = Object.keys(ENDPOINTS) as RedService[];

export interface RedLab extends SamplingLab {
  prometheus: Prometheus;
  /** The collector after the samplers, computing RED from what they kept. */
  afterSampling: Collector;
}

const SPANMETRICS_ENV = { SPANMETRICS_FLUSH_INTERVAL: '1s' };

export async function startRedLab(opts: { lbs?: number; samplers?: number } = {}): Promise<RedLab> {
  const [prometheus, capture] = await Promise.all([
    startPrometheus({ name: 'prometheus-red', configYaml: 'global:\n  scrape_interval: 15s\n' }),
    startCapture('sampled'),
  ]);
  const metricsTo = `${prometheus.url}/api/v1/otlp`;
  const afterSampling = await startCollector({
    config: ['collector/agent.yaml', SPANMETRICS_OVERLAY],
    name: 'after-sampling',
    env: { ...SPANMETRICS_ENV, SPANMETRICS_TIER: 'after-sampling', TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: metricsTo },
  });
  const lab = await startSamplingLab({
    kind: 'direct',
    lbs: opts.lbs ?? 2,
    samplers: opts.samplers ?? 2,
    capture,
    samplerExportEndpoint: afterSampling.otlpGrpc,
    lbOverlays: [SPANMETRICS_OVERLAY],
    lbEnv: { ...SPANMETRICS_ENV, SPANMETRICS_TIER: 'before-sampling', METRICS_EXPORT_ENDPOINT: metricsTo },
  });
  return { ...lab, prometheus, afterSampling };
}

/** Requests and errors (5xx) of one service's order endpoint. */
export interface Counts {
  requests: number;
  errors: number;
  /** Mean duration in ms. */
  meanMs: number;
}

export interface RedReport {
  /** Orders sent per category (the known mix). */
  sent: Record<string, number>;
  /** Per service: its own counters, and what spanmetrics made of the spans in each tier. */
  services: Record<RedService, { own: Counts } & Record<Tier, Counts>>;
  sampling: SamplingReport;
  /** The sampler's ok share (KEEP_PERCENT). */
  keepPercent: number;
}

/** A service's own prom-client counters for its order endpoint (POST), from its /metrics. */
export async function ownCounts(metricsUrl: string, route: string): Promise<Counts> {
  const s = await scrape(metricsUrl);
  const base = { http_request_method: 'POST', http_route: route };
  let requests = 0;
  let errors = 0;
  for (const x of s) {
    if (x.name !== 'lab_http_server_requests_total' || x.labels.http_request_method !== 'POST' || x.labels.http_route !== route) continue;
    requests += x.value;
    if (Number(x.labels.http_response_status_code) >= 500) errors += x.value;
  }
  const sum = sumOf(s, 'http_server_request_duration_seconds_sum', base) ?? 0;
  const count = sumOf(s, 'http_server_request_duration_seconds_count', base) ?? 0;
  return { requests, errors, meanMs: count ? (1000 * sum) / count : 0 };
}

/** What spanmetrics counted of one service's SERVER spans for its endpoint, in one tier, from Prometheus. */
export async function spanCounts(prometheusUrl: string, tier: Tier, service: RedService): Promise<Counts> {
  const sel = `lab_tier="${tier}", service_name="${service}", span_kind="SPAN_KIND_SERVER", span_name="${ENDPOINTS[service].span}"`;
  const one = async (q: string) => (await instantQuery(prometheusUrl, q))[0]?.value ?? 0;
  const requests = await one(`sum(${CALLS}{${sel}})`);
  const errors = await one(`sum(${CALLS}{${sel}, status_code="STATUS_CODE_ERROR"})`);
  const sum = await one(`sum(traces_span_metrics_duration_milliseconds_sum{${sel}})`);
  const count = await one(`sum(traces_span_metrics_duration_milliseconds_count{${sel}})`);
  return { requests, errors, meanMs: count ? sum / count : 0 };
}

/**
 * Sends `orders` orders of a known mix, waits for the samplers' decisions and for both tiers'
 * span metrics to stop moving in Prometheus, then reads everything.
 */
export async function measureRed(lab: RedLab, orders: number, opts: { rate?: number; mix?: { ok: number; error: number; slow: number } } = {}): Promise<RedReport> {
  const ids: TraceIds = await lab.traffic(orders, { rate: opts.rate ?? 20, mix: opts.mix ?? { ok: 80, error: 10, slow: 10 } });
  const sent = Object.fromEntries(Object.entries(ids).map(([c, list]) => [c, list.length]));
  await waitForDecisions(lab.topology, orders);
  // Both tiers flush every second; settled = the same readings for 3 s in a row.
  let last = '';
  let since = Date.now();
  let services = {} as RedReport['services'];
  await waitFor(
    async () => {
      const read = {} as RedReport['services'];
      for (const svc of RED_SERVICES) {
        read[svc] = {
          own: await ownCounts(lab.services[svc].metricsUrl, ENDPOINTS[svc].route),
          'before-sampling': await spanCounts(lab.prometheus.url, 'before-sampling', svc),
          'after-sampling': await spanCounts(lab.prometheus.url, 'after-sampling', svc),
        };
      }
      const now = JSON.stringify(RED_SERVICES.map((s) => [read[s]['before-sampling'].requests, read[s]['after-sampling'].requests, read[s].own.requests]));
      if (now !== last) [last, since] = [now, Date.now()];
      services = read;
      return read.gateway['before-sampling'].requests > 0 && Date.now() - since >= 3000;
    },
    { what: 'the span metrics of both tiers to settle in Prometheus', timeoutMs: 60_000, intervalMs: 500 },
  );
  return { sent, services, sampling: analyse(lab.topology.capture.spans(), ids), keepPercent: Number(SAMPLER_ENV.KEEP_PERCENT) };
}

/** The RED table as a person reads it. */
export function formatRed(r: RedReport): string {
  const total = Object.values(r.sent).reduce((a, b) => a + b, 0);
  const lines = [
    `== RED before and after tail sampling: ${total} orders (${Object.entries(r.sent).map(([c, n]) => `${c} ${n}`).join(', ')}); sampler keeps errors, slow, ${r.keepPercent} % of the rest`,
    'service      source                 requests  errors  mean ms',
  ];
  const row = (svc: string, src: string, c: Counts) =>
    `${svc.padEnd(12)} ${src.padEnd(21)} ${String(c.requests).padStart(9)} ${String(c.errors).padStart(7)} ${c.meanMs.toFixed(0).padStart(8)}`;
  for (const svc of RED_SERVICES) {
    const s = r.services[svc];
    lines.push(row(svc, "own counter", s.own), row('', 'spans, before sampler', s['before-sampling']), row('', 'spans, after sampler', s['after-sampling']));
  }
  const g = r.services.gateway;
  const ratio = g.own.requests ? g['after-sampling'].requests / g.own.requests : 0;
  lines.push(
    `gateway after/before: ${(100 * ratio).toFixed(0)} % of the requests, ${g.own.errors ? ((100 * g['after-sampling'].errors) / g.own.errors).toFixed(0) : '-'} % of the errors; ` +
      `error rate ${pct(g.own.errors, g.own.requests)} true vs ${pct(g['after-sampling'].errors, g['after-sampling'].requests)} after sampling`,
  );
  return lines.join('\n');
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '-');
