// Benchmark (not a test): what OpenTelemetry costs a service, layer by layer, measured as a
// user would (autocannon, closed loop), on the services compiled to CommonJS exactly as the
// image runs them (`node --require services/shared/telemetry.js services/<name>/main.js`):
//
//   1. payments alone (POST /payments): no OpenTelemetry; the http instrumentation alone;
//      + express; + the lab's metrics recorded; the lab's instrumentation set; + trace export;
//      + metric export (= the lab's default); the previous default; zero-code; the same via tsx.
//   2. the whole order (gateway → orders → payments → Kafka → fulfillment): req/s at the
//      gateway and the CPU of all four services, without OpenTelemetry and with it.
//   3. a CPU profile of the instrumented payments under load: where the time goes.
//
//   npm run bench:instrumentation -- [--seconds 5] [--rounds 3] [--connections 16]
//                                    [--only payments|order|profile] [--modes a,b]
//                                    [--try 'name:OTEL_X=v;OTEL_Y=w' ...]   (your own settings)
//
// Export is real (OTLP/HTTP to a collector that takes everything in and keeps nothing,
// collector/sink.yaml). One process per mode runs throughout; the modes take turns, round
// after round, and each mode's figure is its median round, so a burst of other work on the
// machine hits all modes alike. CPU per request (from /proc) is the steadier figure on a busy
// machine; req/s is what a user sees.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readdirSync } from 'node:fs';
import { startCollector, type Collector } from '../runtime/collector.js';
import { repoRoot, runDir } from '../runtime/components.js';
import { startKafka } from '../runtime/kafka.js';
import { ORDER } from '../runtime/orders.js';
import { freePort } from '../runtime/ports.js';
import { processUsage, startProcess, stopAll, watch, type ManagedProcess } from '../runtime/process.js';
import { compileServices, serviceCommand, SERVICE_NAMES, startServices, telemetryEnv, type InstrumentationMode, type Services } from '../runtime/services.js';
import { scrape, sumOf } from '../runtime/prom-text.js';
import { httpOk, waitFor } from '../runtime/wait.js';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { cpuDuring, loadRound, machineLine, median, numberFlag, pct, table } from './lib.js';

type Env = Record<string, string | undefined>;

/** One way of running a service: which start (none/sdk/zero-code), built how, with which OTEL_* overrides. */
export interface Variant {
  name: string;
  what: string;
  mode: InstrumentationMode;
  /** true: the CommonJS build (as the image); false: TypeScript through tsx. */
  compiled: boolean;
  env: Env;
}

const only = (list: string): Env => ({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: list, OTEL_NODE_DISABLED_INSTRUMENTATIONS: undefined });
const NO_EXPORT: Env = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' };
// The metrics SDK aggregates every measurement, but exports once an hour (never, in a round).
const METRICS_RECORDED: Env = { OTEL_METRICS_EXPORTER: 'console', OTEL_METRIC_EXPORT_INTERVAL: '3600000', OTEL_METRIC_EXPORT_TIMEOUT: '30000' };
/** The instrumentation selection services/telemetry.env had before issue 22: everything but four. */
export const PREVIOUS_SELECTION: Env = { OTEL_NODE_ENABLED_INSTRUMENTATIONS: undefined, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fs,net,dns,router' };

export const PAYMENTS_VARIANTS: Variant[] = [
  { name: 'none', what: 'no OpenTelemetry', mode: 'none', compiled: true, env: {} },
  { name: 'http', what: 'SDK, http instrumentation only, no export', mode: 'sdk', compiled: true, env: { ...only('http'), ...NO_EXPORT } },
  { name: '+express', what: '+ express instrumentation', mode: 'sdk', compiled: true, env: { ...only('http,express'), ...NO_EXPORT } },
  { name: '+metrics', what: '+ metrics SDK recording (lab + http metrics), no export', mode: 'sdk', compiled: true, env: { ...only('http,express'), OTEL_TRACES_EXPORTER: 'none', ...METRICS_RECORDED } },
  { name: 'lab-set', what: "the lab's instrumentation set (telemetry.env), no export", mode: 'sdk', compiled: true, env: { OTEL_TRACES_EXPORTER: 'none', ...METRICS_RECORDED } },
  { name: '+traces', what: '+ trace export (batch, OTLP/HTTP protobuf)', mode: 'sdk', compiled: true, env: { ...METRICS_RECORDED } },
  { name: 'sdk', what: "+ metric export: the lab's default (services/telemetry.env)", mode: 'sdk', compiled: true, env: {} },
  { name: 'sdk-before', what: 'the default before issue 22 (every instrumentation but fs,net,dns,router)', mode: 'sdk', compiled: true, env: PREVIOUS_SELECTION },
  { name: 'zero-code', what: 'zero-code (--require .../register), same env', mode: 'zero-code', compiled: true, env: {} },
  { name: 'sdk-tsx', what: 'the default, TypeScript through tsx (npm run lab)', mode: 'sdk', compiled: false, env: {} },
];

export const ORDER_VARIANTS: Variant[] = [
  { name: 'none', what: 'no OpenTelemetry', mode: 'none', compiled: true, env: {} },
  { name: 'sdk', what: "the lab's default", mode: 'sdk', compiled: true, env: {} },
  { name: 'sdk-before', what: 'the default before issue 22', mode: 'sdk', compiled: true, env: PREVIOUS_SELECTION },
  { name: 'zero-code', what: 'zero-code, same env', mode: 'zero-code', compiled: true, env: {} },
];

export interface BenchOptions {
  seconds: number;
  rounds: number;
  connections: number;
  parts: ('payments' | 'order' | 'profile')[];
  /** Variant names to run (default: all); 'none' always runs, it is the baseline. */
  modes?: string[];
  /** Extra variants: the lab's default SDK with these OTEL_* overrides (--try 'name:K=V;K=V'). */
  tries?: Variant[];
  log?: (line: string) => void;
}

export interface VariantFigures {
  variant: Variant;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU of the service(s) per answered request, µs (all four services for the order). */
  cpuUsPerRequest: number;
  /** Cores the service(s) used during the median round. */
  cores: number;
  /** Per service (order flow): cores used during the median round. */
  coresPerService?: Record<string, number>;
  /**
   * Spans that reached the collector per answered request (median round): the check that a
   * cheaper mode is not cheaper because its SDK dropped spans (a full batch queue drops them).
   */
  spansPerRequest: number;
  /** Resident memory of the service(s) after the last round, MiB (summed for the order). */
  rssMiB: number;
  startupMs?: number;
  rounds: number[];
}

export interface InstrumentationReport {
  machine: string;
  seconds: number;
  rounds: number;
  connections: number;
  payments?: VariantFigures[];
  order?: VariantFigures[];
  profile?: ProfileSummary & { variant: string };
  orderProfile?: Record<string, ProfileSummary>;
  machineAfter: string;
}

function variantEnv(v: Variant, service: string, otlp: string): Env {
  if (v.mode === 'none') return { OTEL_SDK_DISABLED: 'true', OTEL_SERVICE_NAME: service };
  return { ...telemetryEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_SERVICE_NAME: service, ...v.env };
}

/** Starts payments in one variant; resolves with its process and URL once /health answers. */
async function startPayments(v: Variant, compiled: string, otlp: string, nodeArgs: string[] = []): Promise<{ proc: ManagedProcess; url: string; startupMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const { args, nodeOptions } = serviceCommand('payments', v.mode, v.compiled ? compiled : undefined);
  const proc = startProcess({
    name: `payments (${v.name})`,
    command: process.execPath,
    args: [...nodeArgs, ...args],
    cwd: repoRoot,
    logFile: join(runDir(`bench-payments-${v.name}`), 'payments.log'),
    env: { ...variantEnv(v, 'payments', otlp), PORT: String(port), NODE_OPTIONS: nodeOptions },
  });
  watch(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => httpOk(`${url}/health`), { what: `payments (${v.name}) /health; log: ${proc.logFile}`, timeoutMs: 60_000, intervalMs: 20 });
  return { proc, url, startupMs: performance.now() - t0 };
}

const PAYMENT = JSON.stringify({ orderId: 'bench', amountCents: 2500 });
const JSON_HEADERS = { 'content-type': 'application/json', 'x-lab-fault': 'none' };

interface Target {
  variant: Variant;
  url: string;
  body: string;
  pids: number[];
  names: string[];
  /** Start to first /health answer (payments alone; the services start one after another otherwise). */
  startupMs?: number;
}

/** Warm-up, then `rounds` rounds in which every target takes its turn; each target's median round. */
async function interleaved(targets: Target[], o: BenchOptions, label: string, sink: Collector): Promise<VariantFigures[]> {
  const log = o.log ?? (() => {});
  const spansAtSink = async () => sumOf(await scrape(sink.telemetryUrl), 'otelcol_receiver_accepted_spans_total') ?? 0;
  // The SDKs export within OTEL_BSP_SCHEDULE_DELAY (1 s): after this pause the sink holds every
  // span of the round before, so a round's spans are counted with that round.
  const settle = () => new Promise((r) => setTimeout(r, 1_500));
  const round = async (t: Target, seconds: number) => {
    await settle();
    const spansBefore = await spansAtSink();
    const r = await cpuDuring(t.pids, () => loadRound({ url: t.url, method: 'POST', headers: JSON_HEADERS, body: t.body, connections: o.connections, seconds }));
    await settle();
    return { ...r, spans: (await spansAtSink()) - spansBefore };
  };
  log(`${label}: warming up (JIT, connection pools, first exports)...`);
  for (const t of targets) await round(t, Math.min(2, o.seconds));
  const runs = new Map<Target, Awaited<ReturnType<typeof round>>[]>(targets.map((t) => [t, []]));
  for (let r = 1; r <= o.rounds; r++) {
    const line: string[] = [];
    // A different starting mode each round: none of them always follows the same neighbour.
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r - 1) % targets.length];
      const res = await round(t, o.seconds);
      runs.get(t)!.push(res);
      line.push(`${t.variant.name} ${res.result.perSecond}`);
    }
    log(`${label} round ${r}/${o.rounds} (req/s): ${line.join(', ')}  [load ${machineLine().replace(/^.*load average /, '')}]`);
  }
  return targets.map((t) => {
    const rs = runs.get(t)!;
    const mid = median(rs.map((x) => x.result.perSecond));
    const m = rs.reduce((best, x) => (Math.abs(x.result.perSecond - mid) < Math.abs(best.result.perSecond - mid) ? x : best));
    const cpu = m.cpuSeconds.reduce((a, b) => a + b, 0);
    return {
      variant: t.variant,
      perSecond: mid,
      p50: m.result.p50,
      p99: m.result.p99,
      errors: rs.reduce((s, x) => s + x.result.errors, 0),
      cpuUsPerRequest: m.result.requests ? Math.round((cpu / m.result.requests) * 1e6) : NaN,
      cores: cpu / m.result.seconds,
      coresPerService: t.names.length > 1 ? Object.fromEntries(t.names.map((n, i) => [n, m.cpuSeconds[i] / m.result.seconds])) : undefined,
      rounds: rs.map((x) => x.result.perSecond),
      spansPerRequest: m.result.requests ? m.spans / m.result.requests : NaN,
      startupMs: t.startupMs,
      rssMiB: t.pids.reduce((sum, p) => sum + (processUsage(p)?.rssBytes ?? 0), 0) / 2 ** 20,
    };
  });
}

/** `name:KEY=value;KEY=value`: the default SDK (compiled) with those variables changed ('KEY=' unsets). */
export function parseTry(spec: string): Variant {
  const m = /^([\w.+-]+):(.+)$/.exec(spec);
  if (!m) throw new Error(`--try takes name:KEY=value;KEY=value (got ${spec})`);
  const env: Env = {};
  for (const kv of m[2].split(';')) {
    const [k, ...v] = kv.split('=');
    if (!/^[A-Z][A-Z0-9_]*$/.test(k) || !v.length) throw new Error(`--try ${m[1]}: ${kv} is not KEY=value`);
    env[k] = v.join('=') || undefined;
  }
  return { name: m[1], what: `default + ${m[2]}`, mode: 'sdk', compiled: true, env };
}

function pick(variants: Variant[], modes?: string[], tries: Variant[] = []): Variant[] {
  if (!modes) return [...variants, ...tries];
  for (const m of modes) {
    if (!variants.some((v) => v.name === m) && !PAYMENTS_VARIANTS.some((v) => v.name === m)) {
      throw new Error(`unknown mode ${m} (known: ${PAYMENTS_VARIANTS.map((v) => v.name).join(', ')})`);
    }
  }
  return [...variants.filter((v) => v.name === 'none' || modes.includes(v.name)), ...tries];
}

async function paymentsPart(o: BenchOptions, compiled: string, sink: Collector): Promise<VariantFigures[]> {
  const targets: Target[] = [];
  for (const v of pick(PAYMENTS_VARIANTS, o.modes, o.tries)) {
    const { proc, url, startupMs } = await startPayments(v, compiled, sink.otlpHttp);
    targets.push({ variant: v, url: `${url}/payments`, body: PAYMENT, pids: [proc.pid], names: ['payments'], startupMs });
  }
  return interleaved(targets, o, 'payments', sink);
}

async function orderPart(o: BenchOptions, compiled: string, sink: Collector): Promise<VariantFigures[]> {
  const kafka = await startKafka('bench-kafka');
  const targets: Target[] = [];
  const sets: Services[] = [];
  for (const v of pick(ORDER_VARIANTS, o.modes, o.tries)) {
    // Each set on its own topic and consumer group: four independent shops on one broker.
    const env = Object.fromEntries(SERVICE_NAMES.map((s) => [s, variantEnv(v, s, sink.otlpHttp)])) as Record<string, Record<string, string>>;
    env.fulfillment = { ...env.fulfillment, KAFKA_GROUP_ID: `fulfillment-${v.name}` };
    const set = await startServices({
      kafkaBootstrap: kafka.bootstrap,
      otlpEndpoint: sink.otlpHttp,
      mode: v.mode,
      compiled: v.compiled ? compiled : undefined,
      topic: `orders-${v.name}`,
      name: `bench-${v.name}`,
      env,
    });
    sets.push(set);
    targets.push({
      variant: v,
      url: `${set.gateway.url}/orders`,
      body: JSON.stringify(ORDER),
      pids: SERVICE_NAMES.map((s) => set[s].process.pid),
      names: [...SERVICE_NAMES],
    });
  }
  return interleaved(targets, o, 'order', sink);
}

/** The lab's default payments under load with --cpu-prof; the profile of the load window only. */
async function profilePart(o: BenchOptions, compiled: string, sink: Collector): Promise<ProfileSummary & { variant: string }> {
  const v = PAYMENTS_VARIANTS.find((x) => x.name === 'sdk')!;
  const dir = runDir('bench-cpu-profile');
  const { proc, url } = await startPayments(v, compiled, sink.otlpHttp, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const load = (seconds: number) => loadRound({ url: `${url}/payments`, method: 'POST', headers: JSON_HEADERS, body: PAYMENT, connections: o.connections, seconds });
  await load(2);
  const from = Number(process.hrtime.bigint() / 1000n);
  await load(o.seconds);
  const to = Number(process.hrtime.bigint() / 1000n);
  await proc.stop();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`payments wrote no CPU profile to ${dir} (log: ${proc.logFile})`);
  return { variant: v.name, ...summarizeProfile(join(dir, file), [from, to]) };
}

/**
 * The whole order under load with the lab's default, every service under --cpu-prof (through
 * NODE_OPTIONS, which node allows for it): the profile of each service over the load window.
 */
async function orderProfilePart(o: BenchOptions, compiled: string, sink: Collector): Promise<Record<string, ProfileSummary>> {
  const kafka = await startKafka('bench-kafka');
  const dir = runDir('bench-cpu-profile-order');
  const v = ORDER_VARIANTS.find((x) => x.name === 'sdk')!;
  const env = Object.fromEntries(
    SERVICE_NAMES.map((s) => [s, { ...variantEnv(v, s, sink.otlpHttp), NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(dir, s)}` }]),
  ) as Record<string, Record<string, string>>;
  const set = await startServices({ kafkaBootstrap: kafka.bootstrap, otlpEndpoint: sink.otlpHttp, mode: 'sdk', compiled, name: 'bench-profile', env });
  const load = (seconds: number) =>
    loadRound({ url: `${set.gateway.url}/orders`, method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(ORDER), connections: o.connections, seconds });
  await load(2);
  const from = Number(process.hrtime.bigint() / 1000n);
  await load(o.seconds);
  const to = Number(process.hrtime.bigint() / 1000n);
  await set.stop();
  const out: Record<string, ProfileSummary> = {};
  for (const s of SERVICE_NAMES) {
    const file = readdirSync(join(dir, s)).find((f) => f.endsWith('.cpuprofile'));
    if (file) out[s] = summarizeProfile(join(dir, s, file), [from, to], 10);
  }
  return out;
}

export async function benchInstrumentation(o: BenchOptions): Promise<InstrumentationReport> {
  const log = o.log ?? (() => {});
  const report: InstrumentationReport = { machine: machineLine(), seconds: o.seconds, rounds: o.rounds, connections: o.connections, machineAfter: '' };
  log('compiling services/ to CommonJS (as services/Dockerfile does)...');
  const compiled = compileServices();
  const sink = await startCollector({ config: 'collector/sink.yaml', name: 'bench-sink' });
  try {
    if (o.parts.includes('payments')) report.payments = await paymentsPart(o, compiled, sink);
    if (o.parts.includes('order')) {
      await stopAll();
      const sink2 = await startCollector({ config: 'collector/sink.yaml', name: 'bench-sink' });
      report.order = await orderPart(o, compiled, sink2);
    }
    if (o.parts.includes('profile')) {
      await stopAll();
      const sink3 = await startCollector({ config: 'collector/sink.yaml', name: 'bench-sink' });
      log('profiling the default payments under load (node --cpu-prof)...');
      report.profile = await profilePart(o, compiled, sink3);
      log('profiling the whole order under load (every service under --cpu-prof)...');
      report.orderProfile = await orderProfilePart(o, compiled, sink3);
    }
  } finally {
    await stopAll();
  }
  report.machineAfter = machineLine();
  return report;
}

export function formatReport(r: InstrumentationReport): string {
  const out: string[] = [];
  const figures = (title: string, rows: VariantFigures[] | undefined, perService: boolean) => {
    if (!rows) return;
    const base = rows.find((x) => x.variant.name === 'none');
    out.push(`\n${title} (median of ${r.rounds} rounds of ${r.seconds} s, ${r.connections} connections)`);
    out.push(
      table(
        ['mode', 'req/s', 'vs none', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU vs none', 'cores', ...(perService ? ['cores: gw/orders/pay/fulfil'] : []), 'spans/req', 'RSS MiB', ...(perService ? [] : ['start ms']), 'errors', 'what'],
        rows.map((x) => [
          x.variant.name,
          x.perSecond,
          pct(x.perSecond, base?.perSecond ?? NaN),
          x.p50,
          x.p99,
          x.cpuUsPerRequest,
          base ? `${(x.cpuUsPerRequest / base.cpuUsPerRequest).toFixed(2)}x` : '-',
          x.cores.toFixed(2),
          ...(perService ? [['gateway', 'orders', 'payments', 'fulfillment'].map((s) => (x.coresPerService?.[s] ?? NaN).toFixed(2)).join(' / ')] : []),
          x.spansPerRequest.toFixed(2),
          x.rssMiB.toFixed(0),
          ...(perService ? [] : [Math.round(x.startupMs ?? NaN)]),
          x.errors,
          x.variant.what,
        ]),
      ),
    );
  };
  out.push(`machine before: ${r.machine}`);
  figures('payments, POST /payments, compiled JS (as the image runs it) unless "tsx"', r.payments, false);
  figures('whole order, POST /orders at the gateway (gateway → orders → payments → Kafka → fulfillment)', r.order, true);
  if (r.profile) {
    const p = r.profile;
    out.push(`\nCPU profile of payments (${p.variant}) under load: busy ${Math.round(p.busyShare * 100)} % of the window; self time by package:`);
    out.push(table(['package', 'share'], p.packages.map((f) => [f.name, `${(f.share * 100).toFixed(1)} %`])));
    out.push('\ntop functions (self time):');
    out.push(table(['function', 'share'], p.functions.map((f) => [f.name, `${(f.share * 100).toFixed(1)} %`])));
  }
  for (const [service, p] of Object.entries(r.orderProfile ?? {})) {
    out.push(`\nwhole order, ${service}: busy ${Math.round(p.busyShare * 100)} % of the window; self time by package / top functions`);
    out.push(
      table(
        ['package', 'share', 'function', 'share'],
        p.packages.map((f, i) => [f.name, `${(f.share * 100).toFixed(1)} %`, p.functions[i]?.name ?? '', p.functions[i] ? `${(p.functions[i].share * 100).toFixed(1)} %` : '']),
      ),
    );
  }
  out.push(`\nmachine after: ${r.machineAfter}`);
  return out.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '16' },
      only: { type: 'string' },
      modes: { type: 'string' },
      try: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const parts = (values.only ?? 'payments,order,profile').split(',').map((s) => s.trim()) as BenchOptions['parts'];
  for (const p of parts) if (!['payments', 'order', 'profile'].includes(p)) throw new Error(`--only takes payments, order, profile (got ${p})`);
  const o: BenchOptions = {
    seconds: numberFlag('seconds', values.seconds, 1, 120),
    rounds: numberFlag('rounds', values.rounds, 1, 20),
    connections: numberFlag('connections', values.connections, 1, 512),
    parts,
    modes: values.modes?.split(',').map((s) => s.trim()),
    tries: (values.try ?? []).map(parseTry),
    log: (line) => console.log(`[bench] ${line}`),
  };
  console.log(`[bench] instrumentation cost: ${parts.join(' + ')}; ${machineLine()} (other work on the machine skews absolute figures: read the ratios)`);
  const report = await benchInstrumentation(o);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`bench-instrumentation: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
