// Benchmark (not a test): what Lab 2's tail-sampling tiers carry on this machine. The direct and
// the Kafka topology (2 LB + 2 samplers, from the lab's own collector configs, started by
// scripts/sampling/topology.ts) are driven by telemetrygen (the collector project's load
// generator, built at the lab's collector release: scripts/build/telemetrygen.sh), one per LB,
// at rising rates until spans are lost or refused:
//
//   npm run bench:pipeline -- [--topology direct,kafka] [--rates 10000,20000,...,80000]
//                             [--seconds 5] [--child-spans 9] [--workers 32] [--decision-wait 2s]
//                             [--no-sweep]
//
// Every trace is kept (KEEP_PERCENT=100), so what the samplers export must be exactly what was
// generated: telemetrygen makes a known number of traces per step (--traces per worker) and
// stamps each step on its resource (bench.step); the ground truth is read back from the
// samplers' own export (the capture collector's file): every generated trace there, each with
// all its spans. Per step: spans/s offered, accepted at the LBs, refused, received by the
// samplers, exported; CPU and RSS per tier; traces decided and decided too early.
// A sweep then runs num_traces × rate × decision_wait on the direct topology: sampler memory
// and early drops.
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { repoRoot, runDir } from '../runtime/components.js';
import { processUsage, startProcess, stopAll, type ManagedProcess } from '../runtime/process.js';
import { scrape, sumOf } from '../runtime/prom-text.js';
import { waitFor } from '../runtime/wait.js';
import { startTopology, type Topology, type TopologyKind } from '../sampling/topology.js';
import { machineLine, numberFlag, table } from './lib.js';

export interface PipelineOptions {
  topologies: TopologyKind[];
  /** Spans per second offered, summed over the generators, one step each. */
  rates: number[];
  seconds: number;
  childSpans: number;
  /** telemetrygen workers per generator (one generator per LB). Each worker waits for its export's
   *  answer, so with 8 the generators, not the tiers, stopped at ~25,500 spans/s on a quiet 2-core
   *  machine (1.4 cores busy in all); with 32 the direct tiers took up to 51,550 with every span
   *  through (docs/performance.md). */
  workers: number;
  decisionWait: string;
  sweep: boolean;
  log?: (line: string) => void;
}

export interface TierUsage {
  /** Cores used, summed over the tier's processes, over the step. */
  cores: number;
  /** Peak RSS of the tier's largest process, MiB. */
  rssMiB: number;
}

export interface Step {
  target: number;
  /** Spans generated; offered = spans/s the LBs took in while the generators sent. */
  generated: number;
  offered: number;
  acceptedAtLb: number;
  refusedAtLb: number;
  receivedBySamplers: number;
  exported: number;
  traces: number;
  /** Traces found in the samplers' export, and those with every span. */
  tracesExported: number;
  tracesComplete: number;
  decided: number;
  droppedTooEarly: number;
  /** Peak of traces held by the samplers (summed). */
  peakPending: number;
  /** Generated but never accepted by an LB (the generator's own queue overflowed, or refused). */
  notAccepted: number;
  /** Accepted by the LBs but not exported by the samplers: lost in the tiers. */
  lost: number;
  tiers: Record<'generator' | 'lb' | 'kafka' | 'sampler' | 'capture', TierUsage>;
  ok: boolean;
}

export interface TopologyRun {
  kind: TopologyKind;
  steps: Step[];
  /** The highest step with nothing lost or refused and every trace complete. */
  knee?: number;
}

export interface SweepRow {
  numTraces: number;
  rate: number;
  decisionWait: string;
  peakPending: number;
  samplerRssMiB: number;
  baseRssMiB: number;
  droppedTooEarly: number;
  tracesComplete: number;
  traces: number;
}

export interface PipelineReport {
  machine: string;
  runs: TopologyRun[];
  sweep: SweepRow[];
  machineAfter: string;
}

function telemetrygen(): string {
  return execFileSync('bash', [join(repoRoot, 'scripts/build/telemetrygen.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
}

const counter = async (url: string, name: string, labels: Record<string, string> = {}) => sumOf(await scrape(url), name, labels) ?? 0;

interface Snapshot {
  accepted: number;
  refused: number;
  received: number;
  exported: number;
  decided: number;
  droppedTooEarly: number;
  pending: number;
}

async function snapshot(t: Topology): Promise<Snapshot> {
  const s: Snapshot = { accepted: 0, refused: 0, received: 0, exported: 0, decided: 0, droppedTooEarly: 0, pending: 0 };
  for (const lb of t.lbs) {
    s.accepted += await counter(lb.telemetryUrl, 'otelcol_receiver_accepted_spans_total');
    s.refused += await counter(lb.telemetryUrl, 'otelcol_receiver_refused_spans_total');
  }
  for (const sp of t.samplers) {
    const url = sp.collector.telemetryUrl;
    const m = await sp.metrics();
    s.received += await counter(url, 'otelcol_receiver_accepted_spans_total');
    s.exported += m.exportedSpans;
    s.decided += m.decided;
    s.pending += m.pending;
    s.droppedTooEarly += await counter(url, 'otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total');
  }
  return s;
}

/**
 * Counts, per trace id, the spans of one step (resource attribute bench.step) in the capture's
 * traces file, from `offset` on: the samplers' export read back.
 */
async function readExport(file: string, offset: number, counts: Map<string, Map<string, number>>): Promise<number> {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    return offset;
  }
  if (size <= offset) return offset;
  const lines = createInterface({ input: createReadStream(file, { start: offset, end: size - 1 }) });
  let read = offset;
  for await (const line of lines) {
    const bytes = Buffer.byteLength(line) + 1;
    let doc: any;
    try {
      doc = JSON.parse(line);
    } catch {
      break; // half-written last line: read again next time
    }
    read += bytes;
    for (const rs of doc.resourceSpans ?? []) {
      const step = rs.resource?.attributes?.find((a: any) => a.key === 'bench.step')?.value?.stringValue;
      if (!step) continue;
      let perTrace = counts.get(step);
      if (!perTrace) counts.set(step, (perTrace = new Map()));
      for (const ss of rs.scopeSpans ?? []) for (const sp of ss.spans ?? []) perTrace.set(sp.traceId, (perTrace.get(sp.traceId) ?? 0) + 1);
    }
  }
  return read;
}

interface Generators {
  procs: ManagedProcess[];
  done: Promise<void>;
  started: number;
}

/** One telemetrygen per LB, gRPC, `traces` traces per worker at `rate` spans/s in all. */
function generate(bin: string, t: Topology, step: string, rate: number, tracesPerWorker: number, o: PipelineOptions): Generators {
  const perWorker = rate / t.lbs.length / o.workers;
  const started = performance.now();
  const procs = t.lbs.map((lb, i) =>
    startProcess({
      name: `telemetrygen ${step} → ${lb.name}`,
      command: bin,
      args: [
        'traces',
        `--otlp-endpoint=${lb.otlpGrpc}`,
        '--otlp-insecure',
        `--workers=${o.workers}`,
        `--rate=${perWorker}`,
        `--traces=${tracesPerWorker}`,
        `--child-spans=${o.childSpans}`,
        '--service=bench',
        `--otlp-attributes=bench.step="${step}"`,
        `--otlp-attributes=bench.generator="${i}"`,
      ],
      logFile: join(runDir(`telemetrygen-${step}-${i}`), 'telemetrygen.log'),
    }),
  );
  const done = Promise.all(
    procs.map((p) =>
      waitFor(() => !!p.exit, { what: `${p.name} to finish (log: ${p.logFile})`, timeoutMs: 120_000, intervalMs: 100 }).then(() => {
        if (p.exit?.code !== 0) throw new Error(`${p.name} failed (code ${p.exit?.code}); last lines of ${p.logFile}:\n${p.logTail()}`);
      }),
    ),
  ).then(() => {});
  return { procs, done, started };
}

/** Samples CPU and RSS of groups of processes, and the topology's counters, until stopped. */
function monitor(groups: Record<string, number[]>, probe: () => Promise<Snapshot>) {
  const cpu0 = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.map((p) => processUsage(p)?.cpuSeconds ?? 0)]));
  const peakRss: Record<string, number> = {};
  let peakPending = 0;
  const accepted: [number, number][] = [];
  const t0 = performance.now();
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      for (const [k, pids] of Object.entries(groups)) {
        for (const p of pids) peakRss[k] = Math.max(peakRss[k] ?? 0, processUsage(p)?.rssBytes ?? 0);
      }
      const snap = await probe().catch(() => undefined);
      if (snap) {
        peakPending = Math.max(peakPending, snap.pending);
        accepted.push([performance.now(), snap.accepted]);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 250);
  return {
    /** Generator processes are gone when they finish: their CPU is read by `final`. */
    stop(final: Record<string, number> = {}) {
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      const usage: Record<string, TierUsage> = {};
      for (const [k, pids] of Object.entries(groups)) {
        const used = final[k] ?? pids.reduce((s, p, i) => s + ((processUsage(p)?.cpuSeconds ?? cpu0[k][i]) - cpu0[k][i]), 0);
        usage[k] = { cores: used / seconds, rssMiB: (peakRss[k] ?? 0) / 2 ** 20 };
      }
      // Spans/s the LBs took in while the generators ran: from the last sample before the count
      // moved to the first that reached its final value (start-up and final flush left out).
      let rate = NaN;
      const first = accepted.findIndex((a) => a[1] > accepted[0]?.[1]);
      const finalCount = accepted.at(-1)?.[1];
      const last = accepted.findIndex((a) => a[1] === finalCount);
      if (first > 0 && last > first) rate = (accepted[last][1] - accepted[first - 1][1]) / ((accepted[last][0] - accepted[first - 1][0]) / 1000);
      return { usage, peakPending, seconds, rate };
    },
  };
}

async function runStep(bin: string, t: Topology, step: string, rate: number, o: PipelineOptions, counts: Map<string, Map<string, number>>, cursor: { offset: number }): Promise<Step> {
  const spansPerTrace = o.childSpans + 1;
  const tracesPerWorker = Math.max(1, Math.round((rate * o.seconds) / spansPerTrace / t.lbs.length / o.workers));
  const traces = tracesPerWorker * o.workers * t.lbs.length;
  const generated = traces * spansPerTrace;
  const before = await snapshot(t);
  const tierPids = {
    lb: t.lbs.map((l) => l.process.pid),
    sampler: t.samplers.map((s) => s.collector.process.pid),
    kafka: t.kafka ? [t.kafka.process.pid] : [],
    capture: [t.capture.process.pid],
  };
  const mon = monitor(tierPids, () => snapshot(t));
  const gen = generate(bin, t, step, rate, tracesPerWorker, o);
  const genPids = gen.procs.map((p) => p.pid);
  // A generator's CPU is read just before it ends (its /proc entry goes with it): poll.
  const genCpu = new Map<number, number>();
  const genTimer = setInterval(() => {
    for (const p of genPids) {
      const u = processUsage(p);
      if (u) genCpu.set(p, u.cpuSeconds);
    }
  }, 100);
  await gen.done;
  clearInterval(genTimer);
  const genSeconds = (performance.now() - gen.started) / 1000;
  // Then every trace's decision (decision_wait) and the export: until the samplers exported
  // all that the LBs accepted, or nothing moves any more.
  let last = -1;
  let still = 0;
  await waitFor(
    async () => {
      const s = await snapshot(t);
      const exported = s.exported - before.exported;
      if (exported >= s.accepted - before.accepted) return true;
      still = exported === last ? still + 1 : 0;
      last = exported;
      return still >= 12; // 3 s without progress after decision_wait: what is missing is lost
    },
    { what: `step ${step}: the samplers' export`, timeoutMs: 60_000, intervalMs: 250 },
  ).catch(() => {});
  const { usage, peakPending, rate: acceptedRate } = mon.stop();
  const after = await snapshot(t);
  cursor.offset = await readExport(join(t.capture.dir, 'traces.jsonl'), cursor.offset, counts);
  const perTrace = counts.get(step) ?? new Map<string, number>();
  const tracesComplete = [...perTrace.values()].filter((n) => n === spansPerTrace).length;
  const genUsed = [...genCpu.values()].reduce((a, b) => a + b, 0);
  const tiers = {
    generator: { cores: genUsed / genSeconds, rssMiB: 0 },
    lb: usage.lb,
    kafka: usage.kafka,
    sampler: usage.sampler,
    capture: usage.capture,
  } as Step['tiers'];
  const exported = after.exported - before.exported;
  const s: Step = {
    target: rate,
    generated,
    offered: Math.round(Number.isFinite(acceptedRate) ? acceptedRate : generated / genSeconds),
    acceptedAtLb: after.accepted - before.accepted,
    refusedAtLb: after.refused - before.refused,
    receivedBySamplers: after.received - before.received,
    exported,
    traces,
    tracesExported: perTrace.size,
    tracesComplete,
    decided: after.decided - before.decided,
    droppedTooEarly: after.droppedTooEarly - before.droppedTooEarly,
    peakPending,
    notAccepted: generated - (after.accepted - before.accepted),
    lost: after.accepted - before.accepted - exported,
    tiers,
    ok: false,
  };
  s.ok = s.lost === 0 && s.notAccepted === 0 && s.refusedAtLb === 0 && tracesComplete === traces;
  return s;
}

async function runTopology(bin: string, kind: TopologyKind, o: PipelineOptions): Promise<TopologyRun> {
  const log = o.log ?? (() => {});
  log(`${kind}: starting 2 LB + 2 samplers${kind === 'kafka' ? ' + Kafka' : ''} (decision_wait ${o.decisionWait}, every trace kept)...`);
  const t = await startTopology({ kind, samplerEnv: { DECISION_WAIT: o.decisionWait, KEEP_PERCENT: '100' } });
  const counts = new Map<string, Map<string, number>>();
  const cursor = { offset: 0 };
  const steps: Step[] = [];
  try {
    for (const [i, rate] of o.rates.entries()) {
      const s = await runStep(bin, t, `${kind}-${i + 1}`, rate, o, counts, cursor);
      steps.push(s);
      log(
        `${kind} ${rate} spans/s: offered ${s.offered}/s, LB accepted ${s.acceptedAtLb} of ${s.generated}, refused ${s.refusedAtLb}, exported ${s.exported}, ` +
          `traces complete ${s.tracesComplete}/${s.traces}, early ${s.droppedTooEarly}; cores gen ${s.tiers.generator.cores.toFixed(2)} lb ${s.tiers.lb.cores.toFixed(2)} ` +
          `sampler ${s.tiers.sampler.cores.toFixed(2)}${kind === 'kafka' ? ` kafka ${s.tiers.kafka.cores.toFixed(2)}` : ''} [load ${machineLine().replace(/^.*load average /, '')}]`,
      );
      // The generator shares the cores: once it cannot offer more than the step before, the
      // machine (not the tiers) is the limit.
      const previous = steps.at(-2);
      if (previous && s.offered < previous.offered * 1.05) {
        log(`${kind}: offered ${s.offered} spans/s, no more than the step before (${previous.offered}): the machine is saturated, stopping here`);
        break;
      }
      if (s.lost > 0 || s.refusedAtLb > 0 || s.notAccepted > 0) {
        log(`${kind}: spans lost or refused at ${rate} spans/s: stopping here`);
        break;
      }
    }
  } finally {
    await stopAll();
  }
  const good = steps.filter((s) => s.ok);
  return { kind, steps, knee: good.length ? Math.max(...good.map((s) => s.offered)) : undefined };
}

/** num_traces × rate × decision_wait → sampler memory and traces decided too early (direct topology). */
async function runSweep(bin: string, o: PipelineOptions): Promise<SweepRow[]> {
  const log = o.log ?? (() => {});
  const rows: SweepRow[] = [];
  const rates = [o.rates[0], o.rates[Math.min(2, o.rates.length - 1)]];
  for (const numTraces of [1000, 20000]) {
    for (const decisionWait of ['1s', '4s']) {
      const t = await startTopology({ kind: 'direct', samplerEnv: { DECISION_WAIT: decisionWait, KEEP_PERCENT: '100', NUM_TRACES: String(numTraces) } });
      const baseRss = Math.max(...t.samplers.map((s) => processUsage(s.collector.process.pid)?.rssBytes ?? 0)) / 2 ** 20;
      const counts = new Map<string, Map<string, number>>();
      const cursor = { offset: 0 };
      try {
        for (const [i, rate] of rates.entries()) {
          const s = await runStep(bin, t, `sweep-${numTraces}-${decisionWait}-${i}`, rate, { ...o, decisionWait }, counts, cursor);
          const row = {
            numTraces,
            rate: s.offered,
            decisionWait,
            peakPending: s.peakPending,
            samplerRssMiB: s.tiers.sampler.rssMiB,
            baseRssMiB: baseRss,
            droppedTooEarly: s.droppedTooEarly,
            tracesComplete: s.tracesComplete,
            traces: s.traces,
          };
          rows.push(row);
          log(`sweep num_traces ${numTraces}, decision_wait ${decisionWait}, ${s.offered} spans/s: peak held ${s.peakPending}, sampler RSS ${row.samplerRssMiB.toFixed(0)} MiB, early ${s.droppedTooEarly}, complete ${s.tracesComplete}/${s.traces}`);
        }
      } finally {
        await stopAll();
      }
    }
  }
  return rows;
}

export async function benchPipeline(o: PipelineOptions): Promise<PipelineReport> {
  const bin = telemetrygen();
  const report: PipelineReport = { machine: machineLine(), runs: [], sweep: [], machineAfter: '' };
  for (const kind of o.topologies) report.runs.push(await runTopology(bin, kind, o));
  if (o.sweep) report.sweep = await runSweep(bin, o);
  report.machineAfter = machineLine();
  return report;
}

export function formatPipeline(r: PipelineReport, o: PipelineOptions): string {
  const out = [`machine before: ${r.machine}`, `spans per trace: ${o.childSpans + 1}; every trace kept (KEEP_PERCENT=100) so exported must equal generated`];
  for (const run of r.runs) {
    out.push(`\n${run.kind} topology, 2 LB + 2 samplers, decision_wait ${o.decisionWait}, ${o.seconds} s per step`);
    out.push(
      table(
        ['target/s', 'offered/s', 'generated', 'LB accepted', 'refused', 'samplers got', 'exported', 'lost in tiers', 'complete traces', 'early', 'cores gen', 'cores LB', 'cores sampler', ...(run.kind === 'kafka' ? ['cores kafka'] : []), 'cores capture', 'RSS LB MiB', 'RSS sampler MiB', 'ok'],
        run.steps.map((s) => [
          s.target,
          s.offered,
          s.generated,
          s.acceptedAtLb,
          s.refusedAtLb,
          s.receivedBySamplers,
          s.exported,
          s.lost,
          `${s.tracesComplete}/${s.traces}`,
          s.droppedTooEarly,
          s.tiers.generator.cores.toFixed(2),
          s.tiers.lb.cores.toFixed(2),
          s.tiers.sampler.cores.toFixed(2),
          ...(run.kind === 'kafka' ? [s.tiers.kafka.cores.toFixed(2)] : []),
          s.tiers.capture.cores.toFixed(2),
          s.tiers.lb.rssMiB.toFixed(0),
          s.tiers.sampler.rssMiB.toFixed(0),
          s.ok ? 'yes' : 'NO',
        ]),
      ),
    );
    const good = run.steps.filter((s) => s.ok);
    const best = good.at(-1);
    out.push(`knee (highest step with every generated span accepted and exported, 0 refused, every trace complete): ${run.knee ? `${run.knee} spans/s` : 'none'}`);
    if (best) {
      const per = (c: number) => ((c / best.offered) * 1000).toFixed(3);
      out.push(
        `CPU per 1k spans/s at ${best.offered} spans/s (cores): generator ${per(best.tiers.generator.cores)}, LB tier ${per(best.tiers.lb.cores)}, sampler tier ${per(best.tiers.sampler.cores)}` +
          (run.kind === 'kafka' ? `, Kafka ${per(best.tiers.kafka.cores)}` : '') +
          `, capture ${per(best.tiers.capture.cores)}`,
      );
    }
  }
  if (r.sweep.length) {
    out.push('\nnum_traces × rate × decision_wait (direct topology; per sampler: peak traces held summed over both, RSS of the larger one)');
    out.push(
      table(
        ['num_traces', 'decision_wait', 'spans/s', 'peak held', 'sampler RSS MiB', 'idle RSS MiB', 'KiB per held trace', 'decided too early', 'complete traces'],
        r.sweep.map((x) => [
          x.numTraces,
          x.decisionWait,
          x.rate,
          x.peakPending,
          x.samplerRssMiB.toFixed(0),
          x.baseRssMiB.toFixed(0),
          x.peakPending ? (((x.samplerRssMiB - x.baseRssMiB) * 1024 * 2) / x.peakPending).toFixed(1) : '-',
          x.droppedTooEarly,
          `${x.tracesComplete}/${x.traces}`,
        ]),
      ),
    );
  }
  out.push(`\nmachine after: ${r.machineAfter}`);
  return out.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      topology: { type: 'string', default: 'direct,kafka' },
      rates: { type: 'string', default: '10000,20000,30000,40000,50000,60000,70000,80000' },
      seconds: { type: 'string', default: '5' },
      'child-spans': { type: 'string', default: '9' },
      workers: { type: 'string', default: '32' },
      'decision-wait': { type: 'string', default: '2s' },
      'no-sweep': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const topologies = values.topology!.split(',').map((s) => s.trim()) as TopologyKind[];
  for (const k of topologies) if (k !== 'direct' && k !== 'kafka') throw new Error(`--topology takes direct, kafka (got ${k})`);
  const rates = values.rates!.split(',').map((r) => numberFlag('rates', r, 100, 1_000_000));
  if (!/^\d+(ms|s)$/.test(values['decision-wait']!)) throw new Error(`--decision-wait is a duration like 2s or 500ms (got ${values['decision-wait']})`);
  const o: PipelineOptions = {
    topologies,
    rates,
    seconds: numberFlag('seconds', values.seconds, 1, 120),
    childSpans: numberFlag('child-spans', values['child-spans'], 0, 100),
    workers: numberFlag('workers', values.workers, 1, 64),
    decisionWait: values['decision-wait']!,
    sweep: !values['no-sweep'],
    log: (line) => console.log(`[bench] ${line}`),
  };
  console.log(`[bench] sampling pipeline: ${topologies.join(' + ')} at ${rates.join(', ')} spans/s; ${machineLine()} (the generator shares the cores)`);
  const report = await benchPipeline(o);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatPipeline(report, o));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(`bench-pipeline: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}
