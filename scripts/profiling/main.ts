// Lab 5 report: profiles the shop with the OpenTelemetry eBPF profiler while orders flow, then
// prints per service the hottest functions and top stacks (folded) and writes flame graphs.
//
//   npm run lab:profiling [-- --duration 20 --rate 3 --fraud-rounds 1000000 --hz 20
//                            --node-options "--perf-basic-prof --interpreted-frames-native-stack"
//                            --out DIR]
//   npm run lab:profiling -- --from profiles.jsonl [--out DIR]   (report only, e.g. compose's output)
//
// Needs root and a Linux kernel with eBPF (the profiler loads eBPF programs): where it cannot
// run, it says why and exits 2.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readJsonLines } from '../runtime/capture.js';
import { runDir } from '../runtime/components.js';
import { postOrder } from '../runtime/orders.js';
import { processUsage, profilerSupport } from '../runtime/profiler.js';
import { stopAll } from '../runtime/process.js';
import { waitFor } from '../runtime/wait.js';
import { startProfilingLab } from './lab.js';
import { formatReport, profilingReport, writeReport } from './report.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rate: { type: 'string', default: '3' },
    'fraud-rounds': { type: 'string', default: '1000000' },
    hz: { type: 'string', default: '20' },
    'node-options': { type: 'string', default: '' },
    from: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

function fail(message: string, code = 2): never {
  console.error(
    `lab:profiling: ${message}\nusage: npm run lab:profiling -- [--duration S] [--rate R] [--fraud-rounds N] [--hz HZ] [--node-options "..."] [--out DIR] | --from profiles.jsonl`,
  );
  process.exit(code);
}

function number(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}, not "${text}"`);
  return n;
}

const step = (msg: string) => console.log(`[lab:profiling] ${msg}`);

async function report(requests: any[], out: string, pids?: number[]) {
  const r = await profilingReport(requests, { pids });
  console.log(`\n${formatReport(r)}\n`);
  const files = writeReport(r, out);
  console.log(`flame graphs (d3-flame-graph): ${files.page} (interactive), ${files.svgs.join(', ')}`);
  console.log(`folded stacks (flamegraph.pl, speedscope): ${files.folded.join(', ')}; data: ${files.json}`);
}

async function main() {
  if (args.help) fail('help', 0);
  const out = args.out ?? runDir('profiling-report');
  if (args.from) {
    if (!existsSync(args.from)) fail(`--from ${args.from}: no such file`);
    await report(readJsonLines(args.from), out);
    return;
  }
  const duration = number('duration', args.duration!, 1, 600);
  const rate = number('rate', args.rate!, 0.1, 100);
  const fraudRounds = number('fraud-rounds', args['fraud-rounds']!, 0, 100_000_000);
  const hz = number('hz', args.hz!, 1, 1000);
  const unsupported = profilerSupport();
  if (unsupported) fail(`cannot run the eBPF profiler here: ${unsupported}`);

  step(`starting Kafka, a capture, the profiles collector (otelcol-profiles), the services (payments: PAYMENTS_FRAUD_ROUNDS=${fraudRounds}) and the eBPF profiler at ${hz} Hz …`);
  const t0 = Date.now();
  const lab = await startProfilingLab({ fraudRounds, nodeOptions: args['node-options'] || undefined, samplesPerSecond: hz });
  const startCpu = processUsage(lab.profiler.pid).cpuSeconds;
  step(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (profiler start: ${startCpu.toFixed(1)} CPU-s); sending orders at ${rate}/s for ${duration} s …`);
  const statuses = new Map<number, number>();
  const pending: Promise<void>[] = [];
  const end = Date.now() + duration * 1000;
  for (let i = 0; Date.now() < end; i++) {
    pending.push(
      postOrder(lab.services.gateway.url)
        .then((a) => void statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1))
        .catch(() => void statuses.set(0, (statuses.get(0) ?? 0) + 1)),
    );
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(pending);
  step(`orders answered: ${[...statuses].map(([s, n]) => `${s || 'no answer'} ×${n}`).join(', ')}`);
  // What was sampled last is sent at the profiler's next report (every 2 s): wait for two more.
  const seen = lab.collector.requests().length;
  await waitFor(() => lab.collector.requests().length >= seen + 2, { what: 'the profiler to send its last samples', timeoutMs: 15_000 });
  const usage = processUsage(lab.profiler.pid);
  step(`profiler: ${(usage.cpuSeconds - startCpu).toFixed(1)} CPU-s while sampling (${(((usage.cpuSeconds - startCpu) / duration) * 100).toFixed(1)} % of a core), RSS ${usage.rssMiB.toFixed(0)} MiB`);
  const pids = Object.values(lab.services).flatMap((s) => (typeof s === 'object' && 'process' in s ? [s.process.pid] : []));
  await report(lab.collector.requests(), out, pids);
}

main()
  .catch((err) => {
    console.error(`lab:profiling: ${(err as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
