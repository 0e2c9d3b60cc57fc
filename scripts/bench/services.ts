// Benchmark (not a test): how many requests per second one service (payments: POST /payments,
// no downstream hop) answers on this machine without OpenTelemetry, with our SDK bootstrap and
// in zero-code mode, and the cost of instrumentation as a ratio. Loopback only, bounded in time.
//
//   tsx scripts/bench/services.ts [--duration 5] [--rounds 3] [--concurrency 16] [--modes none,sdk,zero-code]
//
// The instrumented runs export for real (OTLP/HTTP to a capture collector): export is part of
// the cost. The load generator runs in this process, on the same cores: figures are relative.
// One process per mode runs throughout; the modes take turns, round after round, and each
// mode's figure is its median round, so a burst of other work on the machine hits all modes
// alike instead of whichever happened to run then.
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCapture, stopAll } from '../runtime/index.js';
import { freePort } from '../runtime/ports.js';
import { startProcess, watch } from '../runtime/process.js';
import { runDir, repoRoot } from '../runtime/components.js';
import { serviceCommand, telemetryEnv, type InstrumentationMode } from '../runtime/services.js';
import { waitFor, httpOk } from '../runtime/wait.js';

interface Figures {
  mode: InstrumentationMode;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

const BODY = JSON.stringify({ orderId: 'bench', amountCents: 2500 });

/** Closed loop: `concurrency` clients, each sending its next request when the previous is answered. */
async function load(port: number, seconds: number, concurrency: number): Promise<Omit<Figures, 'mode'>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/payments',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), 'x-lab-fault': 'none' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 201) latencies.push(performance.now() - t0);
            else errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(BODY);
    });
  const client = async () => {
    while (performance.now() < end) await one();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.floor((latencies.length - 1) * p)] ?? NaN) * 10) / 10;
  return { requests: latencies.length, perSecond: Math.round(latencies.length / elapsed), p50: pct(0.5), p99: pct(0.99), errors };
}

/** Starts payments in a mode and returns its port once /health answers. */
async function startPayments(mode: InstrumentationMode, otlpEndpoint: string): Promise<number> {
  const port = await freePort();
  const { args, nodeOptions } = serviceCommand('payments', mode);
  const proc = startProcess({
    name: `payments (${mode})`,
    command: process.execPath,
    args,
    cwd: repoRoot,
    logFile: join(runDir(`bench-payments-${mode}`), 'payments.log'),
    env: {
      ...(mode === 'none' ? { OTEL_SDK_DISABLED: 'true' } : { ...telemetryEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint }),
      OTEL_SERVICE_NAME: 'payments',
      PORT: String(port),
      NODE_OPTIONS: nodeOptions,
    },
  });
  watch(proc);
  await waitFor(() => httpOk(`http://127.0.0.1:${port}/health`), { what: `payments (${mode}) /health; log: ${proc.logFile}` });
  return port;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '16' },
      modes: { type: 'string', default: 'none,sdk,zero-code' },
    },
  });
  const seconds = Number(values.duration);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const modes = values.modes!.split(',').map((m) => m.trim()) as InstrumentationMode[];
  if (!(seconds > 0 && seconds <= 120)) throw new Error('--duration must be 1..120 seconds');
  if (!(Number.isInteger(rounds) && rounds > 0 && rounds <= 20)) throw new Error('--rounds must be 1..20');
  if (!(Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256)) throw new Error('--concurrency must be 1..256');
  for (const m of modes) if (!['none', 'sdk', 'zero-code'].includes(m)) throw new Error(`unknown mode ${m} (none, sdk, zero-code)`);

  console.log(
    `bench: payments POST /payments, ${concurrency} concurrent clients, ${rounds} rounds of ${seconds} s per mode; ` +
      `${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} before start (other work on the machine skews figures)`,
  );
  const capture = await startCapture('bench-capture');
  const results: Figures[] = [];
  try {
    const ports = new Map<InstrumentationMode, number>();
    for (const mode of modes) ports.set(mode, await startPayments(mode, capture.otlpHttp));
    console.log('warming up (JIT, connection pools, first exports)...');
    for (const mode of modes) await load(ports.get(mode)!, Math.min(3, seconds), concurrency);
    const runs = new Map<InstrumentationMode, Omit<Figures, 'mode'>[]>(modes.map((m) => [m, []]));
    for (let round = 1; round <= rounds; round++) {
      const line: string[] = [];
      for (const mode of modes) {
        const r = await load(ports.get(mode)!, seconds, concurrency);
        runs.get(mode)!.push(r);
        line.push(`${mode} ${r.perSecond} req/s`);
      }
      console.log(`round ${round}/${rounds}: ${line.join(', ')}`);
    }
    for (const mode of modes) {
      const rs = runs.get(mode)!;
      const mid = rs.find((r) => r.perSecond === median(rs.map((x) => x.perSecond)))!;
      results.push({ mode, ...mid, errors: rs.reduce((sum, r) => sum + r.errors, 0) });
    }
  } finally {
    await stopAll();
  }
  const base = results.find((r) => r.mode === 'none');
  console.log('\nmedian round per mode:\nmode        req/s   p50 ms   p99 ms   errors   vs none');
  for (const r of results) {
    const ratio = base ? `${((r.perSecond / base.perSecond) * 100).toFixed(0)} %` : '-';
    console.log(
      `${r.mode.padEnd(10)} ${String(r.perSecond).padStart(6)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(8)} ${String(r.errors).padStart(8)}   ${ratio}`,
    );
  }
}

main().catch((err) => {
  console.error(`bench-services: ${(err as Error).message}`);
  process.exit(1);
});
