// Benchmark (not a test): how many requests per second one service (payments: POST /payments,
// no downstream hop) answers on this machine without OpenTelemetry, with our SDK bootstrap and
// in zero-code mode, and the cost of instrumentation as a ratio. Loopback only, bounded in time.
//
//   tsx scripts/bench-services.ts [--duration 10] [--concurrency 16] [--modes none,sdk,zero-code]
//
// The instrumented runs export for real (OTLP/HTTP to a capture collector): export is part of
// the cost. The load generator runs in this process, on the same cores: figures are relative.
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCapture, stopAll } from '../test/support/index.js';
import { freePort } from '../test/support/ports.js';
import { startProcess, watch } from '../test/support/process.js';
import { runDir, repoRoot } from '../test/support/components.js';
import { serviceCommand, telemetryEnv, type InstrumentationMode } from '../test/support/services.js';
import { waitFor, httpOk } from '../test/support/wait.js';

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

async function benchMode(mode: InstrumentationMode, otlpEndpoint: string, seconds: number, concurrency: number): Promise<Figures> {
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
  try {
    await waitFor(() => httpOk(`http://127.0.0.1:${port}/health`), { what: `payments (${mode}) /health; log: ${proc.logFile}` });
    process.stdout.write(`  ${mode.padEnd(9)} warming up...`);
    await load(port, Math.min(3, seconds), concurrency); // JIT, connection pool, first exports
    process.stdout.write(` measuring ${seconds} s...`);
    const figures = { mode, ...(await load(port, seconds, concurrency)) };
    process.stdout.write(` ${figures.perSecond} req/s\n`);
    return figures;
  } finally {
    await proc.stop();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      modes: { type: 'string', default: 'none,sdk,zero-code' },
    },
  });
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const modes = values.modes!.split(',').map((m) => m.trim()) as InstrumentationMode[];
  if (!(seconds > 0 && seconds <= 120)) throw new Error('--duration must be 1..120 seconds');
  if (!(Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256)) throw new Error('--concurrency must be 1..256');
  for (const m of modes) if (!['none', 'sdk', 'zero-code'].includes(m)) throw new Error(`unknown mode ${m} (none, sdk, zero-code)`);

  console.log(
    `bench: payments POST /payments, ${concurrency} concurrent clients, ${seconds} s per mode; ` +
      `${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} before start (other work on the machine skews figures)`,
  );
  const capture = await startCapture('bench-capture');
  const results: Figures[] = [];
  try {
    for (const mode of modes) results.push(await benchMode(mode, capture.otlpHttp, seconds, concurrency));
  } finally {
    await stopAll();
  }
  const base = results.find((r) => r.mode === 'none');
  console.log('\nmode        req/s   p50 ms   p99 ms   errors   vs none');
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
