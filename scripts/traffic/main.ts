// Traffic generator for the lab: orders to the gateway, with a known mix of ok / error / slow.
//
//   tsx scripts/traffic/main.ts --target http://localhost:8080 --count 200 --rate 20 \
//       --concurrency 4 --mix ok=80,error=10,slow=10 --out traffic.json
//
// Prints progress every second and a summary; --out writes the full result (trace ids per
// category, which of them the head sampler kept) for the tests and the sampling report.
// As a module: ./index.ts.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseMix } from './mix.js';
import { runTraffic, type TrafficOptions, type TrafficResult } from './run.js';

const USAGE = `usage: tsx scripts/traffic/main.ts --target URL (--count N | --duration SECONDS)
       [--rate PER_SECOND] [--concurrency N] [--mix ok=80,error=10,slow=10] [--out FILE.json]`;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name}: "${value}" is not a number`);
  return n;
}

function optionsFromArgs(argv: string[]): TrafficOptions & { out?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      mix: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
    },
    strict: true,
  });
  if (!values.target) throw new Error('--target is required (the gateway URL, e.g. http://localhost:8080)');
  return {
    target: values.target,
    count: number('count', values.count),
    durationSeconds: number('duration', values.duration),
    rate: number('rate', values.rate),
    concurrency: number('concurrency', values.concurrency),
    mix: values.mix ? parseMix(values.mix) : undefined,
    timeoutMs: number('timeout', values.timeout),
    out: values.out,
  };
}

function summary(r: TrafficResult): string {
  const lat = (c: keyof TrafficResult['latencyMs']) => {
    const l = r.latencyMs[c];
    return l ? `${l[0]}/${l[1]}/${l[2]} ms` : '-';
  };
  const lines = [
    `sent ${r.sent} in ${r.elapsedSeconds} s (${(r.sent / Math.max(r.elapsedSeconds, 0.001)).toFixed(1)}/s) to ${r.target}`,
    `  ok     ${String(r.ok).padStart(6)}   head-sampled ${r.sampledByHead.ok.length}   latency min/median/max ${lat('ok')}`,
    `  error  ${String(r.errors).padStart(6)}   head-sampled ${r.sampledByHead.error.length}   latency min/median/max ${lat('error')}`,
    `  slow   ${String(r.slow).padStart(6)}   head-sampled ${r.sampledByHead.slow.length}   latency min/median/max ${lat('slow')}`,
    `  failed ${String(r.failed).padStart(6)}   (answers that were not what the request asked for)`,
  ];
  for (const f of r.failures.slice(0, 5)) lines.push(`    ${f.category}: ${f.status ?? 'no answer'} ${f.message}`);
  return lines.join('\n');
}

async function cli(): Promise<void> {
  let options;
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`traffic: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const plan = options.count !== undefined ? `${options.count} orders` : `orders for ${options.durationSeconds} s`;
  console.log(`traffic: sending ${plan} to ${options.target}${options.rate ? ` at ${options.rate}/s` : ''}`);
  try {
    const result = await runTraffic({
      ...options,
      onProgress: (p) =>
        console.log(
          `[${p.elapsedSeconds.toFixed(1)}s] sent ${p.sent} (ok ${p.ok}, error ${p.errors}, slow ${p.slow}, failed ${p.failed}), in flight ${p.inFlight}`,
        ),
    });
    console.log(summary(result));
    if (options.out) {
      writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
      console.log(`trace ids written to ${options.out}`);
    }
    if (result.failed > 0) process.exitCode = 1;
  } catch (err) {
    console.error(`traffic: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

await cli();
