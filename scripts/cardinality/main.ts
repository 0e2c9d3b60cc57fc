// Lab 6 report: runs the cardinality lab natively and prints what came out.
//
//   tsx scripts/cardinality/main.ts [--part explosion|exemplars|red] (repeatable; default all)
//       [--users 200,500,1000] [--red-orders 200] [--json]
//
// explosion: head series and memory of Prometheus and the agent, without the knob, with
//   LAB_METRICS_CUSTOMER_LABEL=true, and with collector/cardinality-fix.yaml; the growth law;
//   a terminal chart.
// exemplars: spanmetrics exemplars read back from Prometheus, each trace looked up in Jaeger.
// red: Lab 2's tail-sampling topology, RED from spans before and after the sampler, next to the
//   services' own counters.
import { parseArgs } from 'node:util';
import { formatExemplars } from './exemplars.js';
import { PARTS, runCardinalityLab, type Part } from './lab.js';
import { formatRed } from './red.js';
import { explosionChart, formatExplosionTable, formatGrowthLaws } from './report.js';

const USAGE = 'usage: npm run lab:cardinality -- [--part explosion|exemplars|red]... [--users 200,500,1000] [--red-orders 200] [--json]';

function fail(message: string): never {
  console.error(`lab:cardinality: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', multiple: true },
    users: { type: 'string', default: '200,500,1000' },
    'red-orders': { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

async function main() {
  if (args.help) fail('help');
  const parts = (args.part ?? [...PARTS]) as Part[];
  for (const p of parts) if (!(PARTS as readonly string[]).includes(p)) fail(`--part must be one of ${PARTS.join(', ')}, not "${p}"`);
  const users = args.users!.split(',').map((u) => Number(u.trim()));
  if (users.some((u) => !Number.isInteger(u) || u <= 0)) fail(`--users must be positive integers separated by commas, not "${args.users}"`);
  const redOrders = Number(args['red-orders']);
  if (!Number.isInteger(redOrders) || redOrders < 20) fail(`--red-orders must be an integer of at least 20, not "${args['red-orders']}"`);

  const t0 = Date.now();
  const report = await runCardinalityLab({ parts, users, redOrders, onProgress: (m) => console.log(`[lab:cardinality] ${m}`) });
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  if (report.explosion) {
    console.log(`\n== series explosion (customers -> head series -> memory)\n${formatExplosionTable(report.explosion.points)}`);
    console.log(`\ngrowth law (least squares over each configuration's points):\n${formatGrowthLaws(report.explosion.laws)}`);
    console.log(`\n${explosionChart(report.explosion.points)}`);
  }
  if (report.exemplars) console.log(`\n${formatExemplars(report.exemplars)}`);
  if (report.red) console.log(`\n${formatRed(report.red)}`);
  console.log(`\n[lab:cardinality] done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(`lab:cardinality: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
});
