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
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCapture, stopAll } from '../runtime/index.js';
import { loadPayments as load } from '../runtime/load.js';
import { startPayments as startOnePayments, type InstrumentationMode } from '../runtime/services.js';

interface Figures {
  mode: InstrumentationMode;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Starts payments in a mode and returns its port once /health answers. */
async function startPayments(mode: InstrumentationMode, otlpEndpoint: string): Promise<number> {
  const payments = await startOnePayments({ mode, otlpEndpoint, name: `payments (${mode})` });
  return Number(new URL(payments.url).port);
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
