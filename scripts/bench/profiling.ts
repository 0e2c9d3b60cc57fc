// Benchmark (not a test): what continuous eBPF profiling costs a service. payments (no
// OpenTelemetry SDK, so only the profiler differs) under a closed-loop load, alternating rounds
// with the profiler off and on in one run: request rate and the service's CPU per request, as
// ratios on/off; the profiler's own CPU while sampling, its start-up CPU and its memory.
//
//   npm run bench:profiling [-- --duration 5 --rounds 3 --concurrency 8 --hz 20 --fraud-rounds 0]
//
// The load generator runs in this process, on the same 2 cores: figures are relative. The
// profiler starts fresh for each "on" round (there is no pause switch); its start-up (loading
// eBPF programs, scanning processes) is measured apart and kept out of the round.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadPayments, type LoadFigures } from '../runtime/load.js';
import { processUsage, profilerSupport, startProfilesCollector, startProfiler } from '../runtime/profiler.js';
import { stopAll } from '../runtime/process.js';
import { startPayments } from '../runtime/services.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    hz: { type: 'string', default: '20' },
    'fraud-rounds': { type: 'string', default: '0' },
  },
});

interface Round extends LoadFigures {
  profiler: boolean;
  /** The service's CPU seconds per 1,000 requests. */
  cpuPerThousand: number;
  /** The profiler's CPU while the round ran, as a share of one core. */
  profilerCore?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main() {
  const seconds = Number(values.duration);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const hz = Number(values.hz);
  if (!(seconds > 0 && seconds <= 120)) throw new Error('--duration must be 1..120 seconds');
  if (!(Number.isInteger(rounds) && rounds > 0 && rounds <= 20)) throw new Error('--rounds must be 1..20');
  if (!(Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256)) throw new Error('--concurrency must be 1..256');
  if (!(hz >= 1 && hz <= 1000)) throw new Error('--hz must be 1..1000');
  const unsupported = profilerSupport();
  if (unsupported) throw new Error(`cannot run the eBPF profiler here: ${unsupported}`);

  console.log(
    `bench: payments POST /payments (PAYMENTS_FRAUD_ROUNDS=${values['fraud-rounds']}), ${concurrency} clients, ${rounds} rounds of ${seconds} s ` +
      `with the profiler off and on at ${hz} Hz; ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} before start`,
  );
  const collector = await startProfilesCollector('bench-profiles');
  const payments = await startPayments({ mode: 'none', env: { PAYMENTS_FRAUD_ROUNDS: values['fraud-rounds']! }, name: 'payments (bench)' });
  const port = Number(new URL(payments.url).port);
  const pid = payments.process.pid;
  const results: Round[] = [];
  const starts: { cpu: number; ms: number }[] = [];
  let rss = 0;
  try {
    console.log('warming up (JIT, connections)...');
    await loadPayments(port, Math.min(3, seconds), concurrency);
    const round = async (profiler: boolean, profilerPid?: number): Promise<Round> => {
      const cpu0 = processUsage(pid).cpuSeconds;
      const p0 = profilerPid ? processUsage(profilerPid).cpuSeconds : 0;
      const r = await loadPayments(port, seconds, concurrency);
      const cpu = processUsage(pid).cpuSeconds - cpu0;
      const profilerCore = profilerPid ? (processUsage(profilerPid).cpuSeconds - p0) / seconds : undefined;
      return { ...r, profiler, cpuPerThousand: (cpu / Math.max(1, r.requests)) * 1000, profilerCore };
    };
    for (let i = 1; i <= rounds; i++) {
      const off = await round(false);
      const t0 = performance.now();
      const profiler = await startProfiler({ collector: collector.otlpGrpc, samplesPerSecond: hz, name: `ebpf-profiler (round ${i})` });
      starts.push({ cpu: processUsage(profiler.pid).cpuSeconds, ms: performance.now() - t0 });
      const on = await round(true, profiler.pid);
      rss = Math.max(rss, processUsage(profiler.pid).rssMiB);
      await profiler.stop();
      results.push(off, on);
      console.log(
        `round ${i}/${rounds}: off ${off.perSecond} req/s, on ${on.perSecond} req/s; profiler ${((on.profilerCore ?? 0) * 100).toFixed(1)} % of a core`,
      );
    }
  } finally {
    await stopAll();
  }
  const pick = (on: boolean) => results.filter((r) => r.profiler === on);
  const offRate = median(pick(false).map((r) => r.perSecond));
  const onRate = median(pick(true).map((r) => r.perSecond));
  const offCpu = median(pick(false).map((r) => r.cpuPerThousand));
  const onCpu = median(pick(true).map((r) => r.cpuPerThousand));
  const core = median(pick(true).map((r) => r.profilerCore ?? 0));
  console.log('\nmedian round:        req/s   p50 ms   p99 ms   service CPU-s per 1000 req');
  for (const on of [false, true]) {
    const rs = pick(on);
    const r = rs.find((x) => x.perSecond === median(rs.map((y) => y.perSecond)))!;
    console.log(`profiler ${on ? 'on ' : 'off'}        ${String(r.perSecond).padStart(7)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(8)}   ${median(rs.map((x) => x.cpuPerThousand)).toFixed(2)}`);
  }
  console.log(`\nrequest rate on/off: ${((onRate / offRate) * 100).toFixed(1)} %; service CPU per request on/off: ${((onCpu / offCpu) * 100).toFixed(1)} %`);
  console.log(
    `profiler while sampling at ${hz} Hz: ${(core * 100).toFixed(1)} % of a core (median round), RSS up to ${rss.toFixed(0)} MiB; ` +
      `start-up: ${median(starts.map((s) => s.cpu)).toFixed(1)} CPU-s, ${(median(starts.map((s) => s.ms)) / 1000).toFixed(1)} s to "Attached sched monitor"`,
  );
}

main().catch((err) => {
  console.error(`bench-profiling: ${(err as Error).message}`);
  process.exitCode = 1;
}).finally(() => stopAll());
