// Benchmark: the crash gap of tail sampling. A sampler killed with kill -9 loses the traces it
// held undecided; the expected size is rate × decision_wait × its share (1/2 of two samplers),
// and the error and slow traces among them (30 % of the mix) are gone or come out incomplete.
// Measured at two rates × two decision waits, per topology, and with the kafka receiver marking
// messages after the pipeline (message_marking.after: true) at one point of the grid. One lab
// per topology; the samplers are restarted with each cell's knobs. Prints a table; not a test.
//   npm run bench:crash-gap -- [--kinds kafka,direct] [--rates 20,40] [--waits 2s,5s] [--seconds 14]
import { parseArgs } from 'node:util';
import { stopAll } from '../runtime/process.js';
import { startSamplingLab, SAMPLER_ENV } from '../sampling/lab.js';
import { crashBound, runFault } from '../sampling/faults.js';
import type { TopologyKind } from '../sampling/topology.js';

const { values: args } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'kafka,direct' },
    rates: { type: 'string', default: '20,40' },
    waits: { type: 'string', default: '2s,5s' },
    seconds: { type: 'string', default: '14' },
  },
});
const kinds = args.kinds!.split(',') as TopologyKind[];
const rates = args.rates!.split(',').map(Number);
const waits = args.waits!.split(',');
const seconds = Number(args.seconds);
if (kinds.some((k) => k !== 'kafka' && k !== 'direct')) throw new Error('--kinds: kafka and/or direct');
if (rates.some((r) => !(r > 0)) || !(seconds > 0)) throw new Error('--rates and --seconds: positive numbers');
const ERROR_SLOW_SHARE = 0.3; // the traffic's default mix: ok 70, error 15, slow 15

interface Cell {
  kind: TopologyKind;
  rate: number;
  wait: string;
  env: Record<string, string>;
  label: string;
}
const cells: Cell[] = [];
for (const kind of kinds) {
  for (const wait of waits) for (const rate of rates) cells.push({ kind, rate, wait, env: { DECISION_WAIT: wait }, label: 'default' });
  if (kind === 'kafka') {
    cells.push({ kind, rate: rates[0], wait: waits.at(-1)!, env: { DECISION_WAIT: waits.at(-1)!, MARK_AFTER_PIPELINE: 'true' }, label: 'message_marking.after: true' });
  }
}

const lines = [
  '| topology | knobs | rate (orders/s, measured) | decision_wait | held at the kill | rate × (wait + 1 s tick) × ½ | error+slow lost or incomplete | expected (held × 0.3) |',
  '|---|---|---|---|---|---|---|---|',
];
try {
  for (const kind of kinds) {
    console.error(`[crash-gap] starting the ${kind} lab …`);
    const lab = await startSamplingLab({ kind, samplers: 2, lbs: 2, samplerEnv: SAMPLER_ENV });
    for (const cell of cells.filter((c) => c.kind === kind)) {
      const { topology } = lab;
      for (let i = 0; i < topology.samplers.length; i++) await topology.stopSampler(i);
      for (let i = 0; i < topology.samplers.length; i++) await topology.startSampler(i, { env: cell.env });
      if (kind === 'kafka') await topology.waitForConsumers();
      const wait = Number.parseFloat(cell.wait);
      const orders = Math.round(cell.rate * Math.max(seconds, 2.5 * wait));
      console.error(`[crash-gap] ${kind}, ${cell.label}, ${cell.rate}/s, decision_wait ${cell.wait}: ${orders} orders …`);
      const row = await runFault(lab, 'sampler-kill-steady', orders, { rate: cell.rate, concurrency: Math.max(8, cell.rate / 2) }, wait);
      const held = row.heldAtKill ?? 0;
      const line = `| ${kind} | ${cell.label} | ${cell.rate} (${row.rate.toFixed(1)}) | ${cell.wait} | ${held} | ${crashBound(row.rate, wait, 1 / 2).toFixed(0)} | ${row.lostErrorSlow} of ${row.report.categories.error.sent + row.report.categories.slow.sent} | ${(held * ERROR_SLOW_SHARE).toFixed(0)} |`;
      console.error(line);
      lines.push(line);
    }
    await stopAll();
  }
} finally {
  console.log(lines.join('\n'));
  await stopAll();
}
