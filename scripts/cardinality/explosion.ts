// Lab 6, part 1: the series explosion, measured. The demo services send their OTLP metrics
// through the agent collector (collector/agent.yaml) to a Prometheus of their own; N distinct
// customers each place an order, and Prometheus's TSDB status API says how many series its head
// holds. Three configurations, each on fresh services, agent and Prometheus:
//
//   no-knob    the services as they are: bounded labels only
//   knob       LAB_METRICS_CUSTOMER_LABEL=true: the request counter carries the customer
//   knob+fix   the same services, the agent with collector/cardinality-fix.yaml laid over it
//
// At each step: head series (all, and of the request counter), and the memory of Prometheus and
// of the agent, read from their own process metrics (RSS and Go heap in use).
import { startCollector, type Collector } from '../runtime/collector.js';
import type { Kafka } from '../runtime/kafka.js';
import { freePort } from '../runtime/ports.js';
import { scrape, requireSum } from '../runtime/prom-text.js';
import { instantQuery, startPrometheus, tsdbStatus, type Prometheus } from '../runtime/prometheus.js';
import { startServices, telemetryEnv, type Services } from '../runtime/services.js';
import { waitFor } from '../runtime/wait.js';
import { runTraffic } from '../traffic/run.js';

export const CONFIGS = ['no-knob', 'knob', 'knob+fix'] as const;
export type Config = (typeof CONFIGS)[number];

/** What OTLP's lab.http.server.requests becomes in Prometheus. */
export const REQUEST_COUNTER = 'lab_http_server_requests_total';
const AGENT = 'collector/agent.yaml';
const FIX = 'collector/cardinality-fix.yaml';

export interface ExplosionPoint {
  config: Config;
  /** Distinct customers who placed an order so far (one order each). */
  users: number;
  /** headStats.numSeries: every series Prometheus holds in memory. */
  headSeries: number;
  /**
   * Series of the request counter, counted by PromQL (`count(...)`): the TSDB status API's
   * per-name counts are cached for 30 s, too long to wait at every step.
   */
  requestSeries: number;
  prometheusRssBytes: number;
  prometheusHeapBytes: number;
  agentRssBytes: number;
  agentHeapBytes: number;
}

export interface ExplosionOptions {
  /** The customer counts to measure at, ascending (e.g. [100, 300, 1000]); 0 is always measured first. */
  users: number[];
  configs?: readonly Config[];
  /** Orders per second and in flight (one order per customer). */
  rate?: number;
  concurrency?: number;
  /** The shop's broker (one for every configuration). */
  kafka: Kafka;
  onProgress?: (message: string) => void;
}

/** One configuration's components: fresh for every configuration, so each head starts empty. */
interface Stage {
  prometheus: Prometheus;
  agent: Collector;
  services: Services;
}

/**
 * The services' environment for a configuration: metrics every second, no traces (not measured
 * here), and no Node runtime metrics: their series come and go with the garbage collector's
 * moods (one per GC kind seen so far), noise that would blur a count of a few series.
 */
export function servicesEnv(config: Config): Record<string, string> {
  return {
    LAB_METRICS_CUSTOMER_LABEL: config === 'no-knob' ? 'false' : 'true',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_NODE_DISABLED_INSTRUMENTATIONS: `${telemetryEnv().OTEL_NODE_DISABLED_INSTRUMENTATIONS},runtime-node`,
  };
}

export function agentConfig(config: Config): string[] {
  return config === 'knob+fix' ? [AGENT, FIX] : [AGENT];
}

async function startStage(config: Config, kafka: Kafka): Promise<Stage> {
  const name = config.replace('+', '-');
  // No scrape jobs, not even of itself: the head holds exactly what the agent sent.
  const prometheus = await startPrometheus({ name: `prometheus-${name}`, configYaml: 'global:\n  scrape_interval: 15s\n' });
  // The services send no traces here; the agent's traces exporter points at its own receiver
  // (never used) rather than at nothing, which would fill its log with connection errors.
  const grpc = `127.0.0.1:${await freePort()}`;
  const agent = await startCollector({
    config: agentConfig(config),
    name: `agent-${name}`,
    env: { METRICS_EXPORT_ENDPOINT: `${prometheus.url}/api/v1/otlp`, OTLP_GRPC_LISTEN: grpc, TRACES_EXPORT_ENDPOINT: grpc },
  });
  const services = await startServices({
    name: `services-${name}`,
    kafkaBootstrap: kafka.bootstrap,
    otlpEndpoint: agent.otlpHttp,
    topic: `orders-${name}`,
    env: { all: servicesEnv(config) },
  });
  return { prometheus, agent, services };
}

async function stopStage(s: Stage): Promise<void> {
  await s.services.stop();
  await s.agent.stop();
  await s.prometheus.stop();
}

/** Orders the gateway counted (201 or not) as Prometheus has them now, summed over customers. */
async function gatewayOrders(prometheus: Prometheus): Promise<number> {
  const [s] = await instantQuery(prometheus.url, `sum(${REQUEST_COUNTER}{job="otel-lab/gateway", http_route="/orders"})`);
  return s?.value ?? 0;
}

async function measure(config: Config, users: number, s: Stage): Promise<ExplosionPoint> {
  const tsdb = await tsdbStatus(s.prometheus.url);
  const prom = await scrape(`${s.prometheus.url}/metrics`);
  const agent = await scrape(s.agent.telemetryUrl);
  return {
    config,
    users,
    headSeries: tsdb.numSeries,
    requestSeries: (await instantQuery(s.prometheus.url, `count(${REQUEST_COUNTER})`))[0]?.value ?? 0,
    prometheusRssBytes: requireSum(prom, 'process_resident_memory_bytes', {}, 'Prometheus /metrics'),
    prometheusHeapBytes: requireSum(prom, 'go_memstats_heap_inuse_bytes', {}, 'Prometheus /metrics'),
    agentRssBytes: requireSum(agent, 'otelcol_process_memory_rss_bytes', {}, 'the agent telemetry'),
    agentHeapBytes: requireSum(agent, 'otelcol_process_runtime_heap_alloc_bytes', {}, 'the agent telemetry'),
  };
}

/**
 * Runs every configuration, measuring at 0 customers and then at each count of `users`. A step
 * is read once Prometheus holds the gateway's count of every order sent (a check that the fix
 * keeps the totals, too) and its head series have stopped moving for two export intervals.
 */
export async function measureExplosion(opts: ExplosionOptions): Promise<ExplosionPoint[]> {
  const steps = [...opts.users].sort((a, b) => a - b);
  if (!steps.length || steps.some((u) => !Number.isInteger(u) || u <= 0)) {
    throw new Error(`users must be positive integers, not ${JSON.stringify(opts.users)}`);
  }
  const say = opts.onProgress ?? (() => {});
  const points: ExplosionPoint[] = [];
  for (const config of opts.configs ?? CONFIGS) {
    say(`${config}: starting Prometheus, the agent (${agentConfig(config).join(' + ')}) and the services …`);
    const stage = await startStage(config, opts.kafka);
    try {
      let sent = 0;
      for (const users of [0, ...steps]) {
        if (users > sent) {
          say(`${config}: ${users - sent} more customers place an order (${users} in all) …`);
          const first = sent;
          const result = await runTraffic({
            target: stage.services.gateway.url,
            count: users - sent,
            rate: opts.rate ?? 40,
            concurrency: opts.concurrency ?? 8,
            mix: { ok: 1, error: 0, slow: 0 },
            customer: (n) => `customer-${first + n}`,
          });
          if (result.failed) throw new Error(`${config}: ${result.failed} of ${result.sent} orders failed: ${result.failures[0]?.message}`);
          sent = users;
        }
        await settle(stage, sent, `${config} at ${users} customers`);
        const point = await measure(config, users, stage);
        say(`${config}: ${users} customers -> ${point.headSeries} head series (${point.requestSeries} of ${REQUEST_COUNTER})`);
        points.push(point);
      }
    } finally {
      await stopStage(stage);
    }
  }
  return points;
}

/** Until Prometheus has every order counted and the head series count is steady (2 s: two export intervals). */
async function settle(stage: Stage, orders: number, what: string): Promise<void> {
  let last = '';
  let since = Date.now();
  let seen = '';
  await waitFor(
    async () => {
      const counted = await gatewayOrders(stage.prometheus);
      const { numSeries } = await tsdbStatus(stage.prometheus.url);
      seen = `gateway counted ${counted} of ${orders} orders, ${numSeries} head series`;
      if (seen !== last) [last, since] = [seen, Date.now()];
      // At 0 orders the counter is not there yet: wait for the services' first exports instead.
      return (orders === 0 ? numSeries > 0 : counted === orders) && Date.now() - since >= 2000;
    },
    { what: `Prometheus to hold ${what}`, timeoutMs: 60_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${seen})`);
  });
}

/** series = intercept + slope × users, least squares over one configuration's points. */
export function fitLine(points: { users: number; value: number }[]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.users, 0) / n;
  const my = points.reduce((s, p) => s + p.value, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.users - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.users - mx) * (p.value - my), 0);
  const slope = sxx ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}
