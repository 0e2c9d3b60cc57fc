// Lab 2's tail-sampling topologies, started natively from the same collector configs that
// docker compose uses:
//
//   direct:  services → LB tier (lb.yaml, loadbalancing exporter, routing by trace id)
//                     → sampler tier (sampler.yaml, tail_sampling) → capture
//   kafka:   services → LB tier (lb-kafka.yaml, kafka exporter, key = trace id) → Kafka topic
//                     → sampler tier (sampler.yaml + sampler-kafka.yaml, one consumer group)
//                     → capture
//
// Every sampler exports to ONE capture and stamps its id on what it exports (resource
// attribute lab.sampler, set in sampler.yaml), so who decided a kept trace is read from the
// exported data itself; the decisions a sampler made, kept or not, come from its own metrics.
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { startCapture, type Capture } from '../runtime/capture.js';
import { startCollector, type Collector } from '../runtime/collector.js';
import { startKafka, type Kafka } from '../runtime/kafka.js';
import { requireSum, scrape, sumOf } from '../runtime/prom-text.js';
import { waitFor } from '../runtime/wait.js';

export type TopologyKind = 'direct' | 'kafka';

export interface TopologyOptions {
  kind: TopologyKind;
  samplers?: number;
  lbs?: number;
  /** tail_sampling knobs of sampler.yaml: DECISION_WAIT, SLOW_TRACE_MS, KEEP_PERCENT. */
  samplerEnv?: Record<string, string>;
  /** kafka: a broker already running (e.g. one the test stops and restarts). */
  kafka?: Kafka;
  /** kafka: the topic's partition count: the most samplers that can share the work. */
  partitions?: number;
  /** kafka: stop the broker before the LB and sampler tiers start (they must cope). */
  kafkaDownAtStart?: boolean;
  /** Overlays laid over the LB role's config (e.g. collector/spanmetrics.yaml), and env they need. */
  lbOverlays?: string[];
  lbEnv?: Record<string, string>;
  /** The capture that holds what the samplers kept (default: a new one). */
  capture?: Capture;
  /** Where the samplers export (OTLP/gRPC host:port), when a hop sits before the capture. */
  samplerExportEndpoint?: string;
}

export interface Sampler {
  /** The value of lab.sampler on everything this sampler exports. */
  id: string;
  collector: Collector;
  /** Knobs it runs with on top of the topology's samplerEnv (kept when it is restarted). */
  env: Record<string, string>;
  metrics(): Promise<SamplerMetrics>;
}

/** Read from a sampler's own telemetry (tail_sampling and process metrics). */
export interface SamplerMetrics {
  /** Trace ids this sampler started holding (a trace split over two samplers counts on both). */
  received: number;
  /** Traces this sampler decided: kept + dropped. */
  decided: number;
  kept: number;
  dropped: number;
  /** Traces each policy said "sample" to (several policies can say it of one trace). */
  keptByPolicy: Record<string, number>;
  /** Spans forwarded straight away because their trace was already decided (late spans). */
  lateSpansKept: number;
  lateSpansDropped: number;
  /** Traces currently waiting for their decision. */
  pending: number;
  /** Spans its exporter delivered to the capture. */
  exportedSpans: number;
  rssBytes: number;
}

export interface Topology {
  kind: TopologyKind;
  capture: Capture;
  lbs: Collector[];
  samplers: Sampler[];
  kafka?: Kafka;
  topic?: string;
  /** OTLP/HTTP base URL of each LB: where the services send. */
  entrypoints: string[];
  /** Adds one sampler: direct = start it and restart every LB with the new list; kafka = it joins the group. */
  addSampler(): Promise<Sampler>;
  /** Stops a sampler (its pending traces are decided on what it holds, then it leaves the group). */
  stopSampler(index: number): Promise<void>;
  /**
   * Starts a stopped (or killed) sampler again: same ports, and for kafka the same group. Same
   * lab.sampler id, unless `asNew` (then `sampler-2.2`, a new pod's hostname): what it decides
   * after the restart is then told apart from what it decided before. `env`: knobs on top of
   * the topology's samplerEnv, kept by later restarts (default: the ones it ran with).
   */
  startSampler(index: number, opts?: { asNew?: boolean; env?: Record<string, string> }): Promise<void>;
  /**
   * kill -9 of a sampler: the traces it holds in memory are gone, nothing is flushed, it leaves
   * no group (Kafka notices after the session timeout). Resolves with the trace ids it held
   * undecided just before the kill (its own received − decided).
   */
  killSampler(index: number): Promise<number>;
  /** SIGSTOP of a sampler: a network stall (its sockets stay open, nothing is read or answered). */
  pauseSampler(index: number): Promise<void>;
  /** SIGCONT after pauseSampler. */
  resumeSampler(index: number): Promise<void>;
  /** kill -9 of an LB instance: the spans in its memory (exporter queues) are gone. */
  killLb(index: number): Promise<void>;
  /** Starts a killed or stopped LB instance again, on the same ports. */
  startLb(index: number): Promise<void>;
  /** kafka: waits until every running sampler owns partitions of the topic. */
  waitForConsumers(): Promise<void>;
  /** kafka: messages of the spans topic the samplers' group has not consumed yet (its lag). */
  lag(): Promise<number>;
  /** kafka: the group's lag per partition of the spans topic. */
  lagByPartition(): Promise<number[]>;
  /** kafka: writes raw messages (not OTLP: a poison message) straight into the spans topic; where each landed. */
  writeToSpansTopic(messages: { partition: number; value: Buffer }[]): Promise<{ partition: number; offset: number }[]>;
  /** Spans the LB tier accepted from the services so far (its receivers' own counter). */
  spansAccepted(): Promise<number>;
  /**
   * spansAccepted() once it has not moved for a second: the services' own start-up spans (their
   * health checks) still arriving are counted before, not in, what a scenario sends next.
   */
  spansAcceptedSettled(): Promise<number>;
  /**
   * Spans the running LB instances accepted and their trace exporter has not yet delivered
   * (sent or given up on): batches still queued or retrying, e.g. while Kafka is down.
   */
  spansUndelivered(): Promise<number>;
  /** Spans the LB tier refused so far (its receivers' own counter: memory_limiter, a failing exporter). */
  spansRefused(): Promise<number>;
  /** Spans each running LB instance accepted since it started (its receivers' own counter). */
  spansAcceptedPerLb(): Promise<number[]>;
  /**
   * Trace ids the sampler tier took in so far, summed over samplers (tail_sampling's
   * new_trace_id_received), stopped and restarted samplers included: a trace that reached two
   * samplers, or one sampler before and after a restart, counts twice.
   */
  tracesReceived(): Promise<number>;
  /** Spans the sampler tier exported so far, stopped and restarted samplers included. */
  spansExported(): Promise<number>;
}

const SAMPLER_CONFIG = 'collector/sampler.yaml';
const KAFKA_OVERLAY = 'collector/sampler-kafka.yaml';

export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const kind = opts.kind;
  const capture = opts.capture ?? (await startCapture('sampled'));
  let kafka = opts.kafka;
  let topic: string | undefined;
  if (kind === 'kafka') {
    kafka ??= await startKafka();
    topic = 'otlp_spans';
    // Created up front with a known partition count, so consumers get partitions at once.
    await kafka.createTopics([{ topic, numPartitions: opts.partitions ?? 4 }]);
    if (opts.kafkaDownAtStart) await kafka.stop();
  }

  // The Kafka sampler is sampler.yaml with sampler-kafka.yaml laid over it (the collector merges
  // several --config files): the policies live in one file only.
  const samplerConfig = kind === 'kafka' ? [SAMPLER_CONFIG, KAFKA_OVERLAY] : SAMPLER_CONFIG;
  const samplers: Sampler[] = [];
  // `more`: its ports (a restart keeps them) and any knob that differs from opts.samplerEnv.
  const startSampler = async (id: string, more: Record<string, string> = {}, env: Record<string, string> = {}): Promise<Sampler> => {
    const collector = await startCollector({
      config: samplerConfig,
      name: id,
      env: {
        SAMPLER_ID: id,
        TRACES_EXPORT_ENDPOINT: opts.samplerExportEndpoint ?? capture.otlpGrpc,
        ...(kafka ? { KAFKA_BROKERS: kafka.bootstrap, SPANS_TOPIC: topic!, SAMPLER_GROUP: 'samplers' } : {}),
        ...opts.samplerEnv,
        ...env,
        ...more,
      },
    });
    return { id, collector, env, metrics: () => samplerMetrics(collector.telemetryUrl) };
  };
  for (let i = 1; i <= (opts.samplers ?? 2); i++) samplers.push(await startSampler(`sampler-${i}`));

  const lbEnv = (): Record<string, string> => ({
    ...(kind === 'kafka'
      ? { KAFKA_BROKERS: kafka!.bootstrap, SPANS_TOPIC: topic! }
      : { SAMPLER_ENDPOINTS: samplers.map((s) => s.collector.otlpGrpc).join(',') }),
    ...opts.lbEnv,
  });
  const lbConfig = [kind === 'kafka' ? 'collector/lb-kafka.yaml' : 'collector/lb.yaml', ...(opts.lbOverlays ?? [])];
  const lbs: Collector[] = [];
  for (let i = 1; i <= (opts.lbs ?? 2); i++) {
    lbs.push(await startCollector({ config: lbConfig, name: `lb-${i}`, env: lbEnv() }));
  }
  // Counters of LB instances and samplers that were since restarted (theirs start again at 0).
  let acceptedBefore = 0;
  let refusedBefore = 0;
  let exportedByStopped = 0;
  let receivedByStopped = 0;

  const topology: Topology = {
    kind,
    capture,
    lbs,
    samplers,
    kafka,
    topic,
    entrypoints: lbs.map((lb) => lb.otlpHttp),
    async addSampler() {
      const sampler = await startSampler(`sampler-${samplers.length + 1}`);
      samplers.push(sampler);
      if (kind === 'direct') {
        // The static resolver's list is fixed at start: every LB restarts with the new one, one
        // at a time, on the same ports (the SDKs retry the refused connections meanwhile).
        for (let i = 0; i < lbs.length; i++) {
          acceptedBefore += await acceptedSpans(lbs[i]);
          refusedBefore += await refusedSpans(lbs[i]);
          await lbs[i].stop();
          lbs[i] = await startCollector({
            config: lbConfig,
            name: lbs[i].name,
            env: { ...lbs[i].listen, ...lbEnv() },
          });
        }
      } else {
        await topology.waitForConsumers();
      }
      return sampler;
    },
    async stopSampler(index) {
      await retireSampler(index);
      await samplers[index].collector.stop();
    },
    async killSampler(index) {
      const m = await retireSampler(index);
      await samplers[index].collector.process.kill();
      return m.received - m.decided;
    },
    pauseSampler: (index) => samplers[index].collector.process.pause(),
    resumeSampler: (index) => samplers[index].collector.process.resume(),
    async startSampler(index, { asNew = false, env } = {}) {
      const old = samplers[index];
      const id = asNew ? `${old.id.replace(/\.\d+$/, '')}.${Number(/\.(\d+)$/.exec(old.id)?.[1] ?? 1) + 1}` : old.id;
      samplers[index] = await startSampler(id, { ...old.collector.listen, TELEMETRY_PORT: portOf(old.collector.telemetryUrl) }, env ?? old.env);
    },
    async writeToSpansTopic(messages) {
      const client = new KafkaClient({ clientId: 'otel-lab-poison', brokers: [kafka!.bootstrap], logLevel: logLevel.NOTHING });
      const producer = client.producer();
      await producer.connect();
      try {
        const out: { partition: number; offset: number }[] = [];
        for (const m of messages) {
          const [meta] = await producer.send({ topic: topic!, messages: [{ partition: m.partition, key: 'poison', value: m.value }] });
          out.push({ partition: m.partition, offset: Number(meta.baseOffset) });
        }
        return out;
      } finally {
        await producer.disconnect();
      }
    },
    lagByPartition: () => groupLagByPartition(kafka!, topic!),
    async killLb(index) {
      // Read just before the kill: what it accepts in the last milliseconds is not counted.
      acceptedBefore += await acceptedSpans(lbs[index]);
      refusedBefore += await refusedSpans(lbs[index]);
      await lbs[index].process.kill();
    },
    async startLb(index) {
      const old = lbs[index];
      lbs[index] = await startCollector({
        config: lbConfig,
        name: old.name,
        env: { ...old.listen, TELEMETRY_PORT: portOf(old.telemetryUrl), ...lbEnv() },
      });
    },
    lag: () => groupLag(kafka!, topic!),
    waitForConsumers: () => waitForGroup(kafka!, samplers.filter((s) => !s.collector.process.exit).length),
    async spansExported() {
      let sum = exportedByStopped;
      for (const s of samplers) if (!s.collector.process.exit) sum += (await s.metrics()).exportedSpans;
      return sum;
    },
    async tracesReceived() {
      let sum = receivedByStopped;
      for (const s of samplers) if (!s.collector.process.exit) sum += (await s.metrics()).received;
      return sum;
    },
    spansAcceptedPerLb: () => Promise.all(lbs.map(acceptedSpans)),
    async spansAccepted() {
      let sum = acceptedBefore;
      for (const lb of lbs) if (!lb.process.exit) sum += await acceptedSpans(lb);
      return sum;
    },
    async spansAcceptedSettled() {
      let last = -1;
      let since = Date.now();
      return waitFor(
        async () => {
          const n = await topology.spansAccepted();
          if (n !== last) [last, since] = [n, Date.now()];
          return Date.now() - since >= 1000 && n;
        },
        { what: 'the spans accepted by the LB tier to stop moving', timeoutMs: 30_000, intervalMs: 200 },
      );
    },
    async spansUndelivered() {
      let sum = 0;
      for (const lb of lbs) {
        if (lb.process.exit) continue;
        const samples = await scrape(lb.telemetryUrl);
        const out = { exporter: kind === 'kafka' ? 'kafka' : 'loadbalancing' };
        const done = (sumOf(samples, 'otelcol_exporter_sent_spans_total', out) ?? 0) + (sumOf(samples, 'otelcol_exporter_send_failed_spans_total', out) ?? 0);
        sum += Math.max(0, (sumOf(samples, 'otelcol_receiver_accepted_spans_total', { receiver: 'otlp' }) ?? 0) - done);
      }
      return sum;
    },
    async spansRefused() {
      let sum = refusedBefore;
      for (const lb of lbs) if (!lb.process.exit) sum += await refusedSpans(lb);
      return sum;
    },
  };
  // A sampler's counters die with it: keep what it took in and exported so far (what it does
  // while shutting down, or in the instant before a kill, is not counted).
  const retireSampler = async (index: number) => {
    const m = await samplers[index].metrics();
    exportedByStopped += m.exportedSpans;
    receivedByStopped += m.received;
    return m;
  };
  if (kind === 'kafka' && !opts.kafkaDownAtStart) await topology.waitForConsumers();
  return topology;
}

/** Waits until `members` consumers share the samplers' group, every one with partitions. */
async function waitForGroup(kafka: Kafka, members: number): Promise<void> {
  const client = new KafkaClient({ clientId: 'otel-lab-topology', brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups(['samplers']);
        const g = groups[0];
        return g?.state === 'Stable' && g.members.length === members && g.members.every((m) => m.memberAssignment.length > 0);
      },
      { what: `${members} samplers to share the Kafka consumer group "samplers"`, timeoutMs: 60_000, intervalMs: 250 },
    );
  } finally {
    await admin.disconnect();
  }
}

async function groupLag(kafka: Kafka, topic: string): Promise<number> {
  return (await groupLagByPartition(kafka, topic)).reduce((a, b) => a + b, 0);
}

async function groupLagByPartition(kafka: Kafka, topic: string): Promise<number[]> {
  const admin = new KafkaClient({ clientId: 'otel-lab-topology', brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: 'samplers', topics: [topic] });
    const lag: number[] = [];
    for (const end of ends) {
      const done = Number(committed.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
      lag[end.partition] = Number(end.offset) - Math.max(done, 0);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

async function samplerMetrics(url: string): Promise<SamplerMetrics> {
  const s = await scrape(url);
  // A collector's counters appear with their first increment: absent means none yet.
  const count = (name: string, labels: Record<string, string> = {}) => sumOf(s, name, labels) ?? 0;
  const decision = 'otelcol_processor_tail_sampling_global_count_traces_sampled_total';
  const early = 'otelcol_processor_tail_sampling_early_releases_from_cache_decision_total';
  const kept = count(decision, { sampled: 'true' });
  const keptByPolicy: Record<string, number> = {};
  for (const x of s) {
    if (x.name !== 'otelcol_processor_tail_sampling_count_traces_sampled_total' || x.labels.sampled !== 'true') continue;
    keptByPolicy[x.labels.policy] = (keptByPolicy[x.labels.policy] ?? 0) + x.value;
  }
  const dropped = count(decision, { sampled: 'false' });
  return {
    received: count('otelcol_processor_tail_sampling_new_trace_id_received_total'),
    decided: kept + dropped,
    kept,
    dropped,
    keptByPolicy,
    lateSpansKept: count(early, { sampled: 'true' }),
    lateSpansDropped: count(early, { sampled: 'false' }),
    pending: count('otelcol_processor_tail_sampling_sampling_traces_on_memory'),
    exportedSpans: count('otelcol_exporter_sent_spans_total'),
    // Always there (a gauge of the process): missing means this is not a collector's telemetry.
    rssBytes: requireSum(s, 'otelcol_process_memory_rss_bytes', {}, url),
  };
}

function portOf(url: string): string {
  return new URL(url).port;
}

async function acceptedSpans(collector: Collector): Promise<number> {
  return sumOf(await scrape(collector.telemetryUrl), 'otelcol_receiver_accepted_spans_total') ?? 0;
}

async function refusedSpans(collector: Collector): Promise<number> {
  return sumOf(await scrape(collector.telemetryUrl), 'otelcol_receiver_refused_spans_total') ?? 0;
}
