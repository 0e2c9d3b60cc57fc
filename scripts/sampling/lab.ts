// Lab 2 end to end: the demo services (services/) sending to a sampling topology
// (topology.ts). The services are split over the LB tier the way a fleet is behind a plain
// load balancer: gateway and orders send to the first LB, payments and fulfillment to the
// last, so every trace crosses LB instances and only trace-id routing brings it together again.
import { runTraffic, type TrafficResult } from '../traffic/index.js';
import type { Mix } from '../traffic/mix.js';
import { startCapture, type Capture } from '../runtime/capture.js';
import { startCollector } from '../runtime/collector.js';
import { startKafka, type Kafka } from '../runtime/kafka.js';
import { readEnvFile } from '../runtime/components.js';
import { startServices, type Services } from '../runtime/services.js';
import { startTopology, type Sampler, type Topology, type TopologyOptions } from './topology.js';
import { CATEGORIES, waitForDecisions, type TraceIds } from './report.js';
import { waitFor } from '../runtime/wait.js';

/** The SDK settings the sampling scenarios need on every service. */
export const SAMPLING_SERVICE_ENV: Record<string, string> = {
  // Spans leave each service within 200 ms of ending (default 5 s), so decision_wait can be
  // a couple of seconds and the suite stays short. decision_wait must cover this delay.
  OTEL_BSP_SCHEDULE_DELAY: '200',
  // The LB and sampler tiers carry traces only.
  OTEL_METRICS_EXPORTER: 'none',
};

/** sampler.yaml's knobs for native runs (config/sampling/native.env): DECISION_WAIT, SLOW_TRACE_MS, KEEP_PERCENT. */
export const SAMPLER_ENV = readEnvFile('config/sampling/native.env');

/** Orders per second, orders in flight at most (slow orders hold a slot 1.5 s), category mix. */
export interface TrafficShape {
  rate?: number;
  concurrency?: number;
  mix?: Mix;
}

export interface SamplingOptions extends Omit<TopologyOptions, 'kafka'> {
  /** kafka topology: give the spans a broker of their own (one a test can stop) instead of the shop's. */
  ownSpansBroker?: boolean;
}

export interface SamplingLab {
  /** The shop's broker (the `orders` topic). */
  kafka: Kafka;
  topology: Topology;
  services: Services;
  /** Sends `count` orders with a known mix through the gateway; trace ids per category. */
  traffic(count: number, opts?: TrafficShape): Promise<TraceIds>;
}

/**
 * Kafka, the topology, then the services. One broker serves both the shop's `orders` topic
 * and the spans topic, unless the spans get their own (`ownSpansBroker`).
 */
export async function startSamplingLab(opts: SamplingOptions): Promise<SamplingLab> {
  const [kafka, spansKafka] = await Promise.all([
    startKafka('kafka-shop'),
    opts.ownSpansBroker ? startKafka('kafka-spans') : undefined,
  ]);
  const topology = await startTopology({
    samplerEnv: SAMPLER_ENV,
    ...opts,
    kafka: opts.kind === 'kafka' ? (spansKafka ?? kafka) : undefined,
  });
  const [first, last] = [topology.entrypoints[0], topology.entrypoints[topology.entrypoints.length - 1]];
  const services = await startServices({
    kafkaBootstrap: kafka.bootstrap,
    otlpEndpoint: first,
    env: {
      all: SAMPLING_SERVICE_ENV,
      payments: { OTEL_EXPORTER_OTLP_ENDPOINT: last },
      fulfillment: { OTEL_EXPORTER_OTLP_ENDPOINT: last },
    },
  });
  return {
    kafka,
    topology,
    services,
    traffic: (count, t = {}) => sendOrders(services.gateway.url, count, t),
  };
}

/** Orders through the gateway with the traffic generator; trace ids per category. */
export async function sendOrders(gateway: string, count: number, opts: TrafficShape = {}): Promise<TraceIds> {
  const result = await runTraffic({
    target: gateway,
    count,
    rate: opts.rate ?? 20,
    concurrency: opts.concurrency ?? 8,
    mix: opts.mix ?? { ok: 70, error: 15, slow: 15 },
  });
  if (result.failed > 0) {
    const first = result.failures.slice(0, 3).map((f) => `${f.category}: ${f.status ?? ''} ${f.message}`);
    throw new Error(`traffic: ${result.failed} of ${result.sent} orders did not come out as asked (${first.join('; ')})`);
  }
  return result.traceIds;
}

export interface HeadSamplingLab {
  capture: Capture;
  services: Services;
  traffic(count: number, opts?: TrafficShape): Promise<TrafficResult>;
}

/**
 * Head sampling: the gateway's SDK decides (parentbased_traceidratio at `ratio`), the other
 * services follow the sampled flag in the trace context, one collector (agent.yaml) forwards.
 */
export async function startHeadSamplingLab(ratio: number): Promise<HeadSamplingLab> {
  const [kafka, capture] = await Promise.all([startKafka('kafka-shop'), startCapture()]);
  const agent = await startCollector({
    config: 'collector/agent.yaml',
    env: { TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: capture.otlpHttp },
  });
  const services = await startServices({
    kafkaBootstrap: kafka.bootstrap,
    otlpEndpoint: agent.otlpHttp,
    env: {
      all: SAMPLING_SERVICE_ENV,
      // Only the entry point decides; the others keep the default parentbased_always_on.
      gateway: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(ratio) },
    },
  });
  return {
    capture,
    services,
    traffic: (count, t = {}) =>
      runTraffic({ target: services.gateway.url, count, rate: t.rate ?? 20, concurrency: t.concurrency ?? 8, mix: t.mix ?? { ok: 70, error: 15, slow: 15 } }),
  };
}

/**
 * Runs `orders` through the topology and, when the given share of them has reached the LB
 * tier (~12 spans an order), runs each action, the traffic flowing on meanwhile. Returns the
 * trace ids and how many traces reached two samplers (decided twice), from the samplers' own
 * counters: trace ids taken in, summed over samplers, minus the traces sent.
 */
export async function underTraffic(lab: SamplingLab, orders: number, shape: TrafficShape, actions: [number, () => Promise<unknown>][]) {
  const { topology } = lab;
  const receivedBefore = await topology.tracesReceived();
  // The shares count this run's spans only: a lab that already carried traffic starts above 0.
  const acceptedBefore = await topology.spansAccepted();
  const started = Date.now();
  let trafficSeconds = 0;
  const traffic = lab.traffic(orders, shape).then((ids) => ((trafficSeconds = (Date.now() - started) / 1000), ids));
  for (const [share, action] of actions) {
    await waitFor(async () => (await topology.spansAccepted()) - acceptedBefore >= share * orders * 12, {
      what: `${Math.round(share * 100)} % of the orders to reach the LB tier`,
      timeoutMs: 120_000,
    });
    await action();
  }
  const ids = await traffic;
  const sent = CATEGORIES.reduce((n, c) => n + ids[c].length, 0);
  await waitForDecisions(topology, 0);
  const decidedTwice = (await topology.tracesReceived()) - receivedBefore - sent;
  return { ids, sent, decidedTwice, trafficSeconds };
}

/** The scaling experiment: a sampler is added once a third of the orders are in. */
export async function addSamplerUnderTraffic(lab: SamplingLab, orders: number, shape: TrafficShape) {
  let added: Sampler | undefined;
  const run = await underTraffic(lab, orders, shape, [[1 / 3, async () => (added = await lab.topology.addSampler())]]);
  return { ...run, added: added! };
}
