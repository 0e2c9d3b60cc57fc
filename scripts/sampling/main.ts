// Lab 2 report: runs one sampling topology natively with the demo services and a known traffic
// mix, then prints what came out: per category sent / kept / complete, per sampler how many
// traces it decided and its memory, traces that reached two samplers, and the span rate.
//
//   tsx scripts/sampling/main.ts --topology direct|kafka|head [--orders 300] [--rate 20] [--concurrency 8]
//       [--samplers 2] [--lbs 2] [--scale] [--decision-wait 3s] [--keep-percent 20]
//       [--slow-trace-ms 1000] [--head-ratio 0.25]
//
// --scale adds a sampler once a third of the orders are in (direct: every LB restarts with
// the new list; kafka: the new sampler joins the consumer group).
//
//   tsx scripts/sampling/main.ts --topology direct|kafka --fault <name>|all [--orders 200] [--rate 20]
//
// --fault runs a fault scenario (faults.ts: sampler-kill, sampler-kill-long, sampler-stall,
// lb-kill, broker-kill, broker-restart, none) under traffic and prints the fault table against
// the ground truth; `all` runs every scenario of the topology in a row on one lab.
//
//   tsx scripts/sampling/main.ts --bad-input
//
// --bad-input sends malformed and odd OTLP requests (bad-input.ts) to the agent, an LB and a
// sampler and prints what each door answered.
import { parseArgs } from 'node:util';
import { stopAll } from '../runtime/process.js';
import { addSamplerUnderTraffic, startHeadSamplingLab, startSamplingLab, SAMPLER_ENV } from './lab.js';
import { analyse, CATEGORIES, formatReport, samplerLines, settleTraces, waitForDecisions } from './report.js';
import { FAULTS, formatFaultTable, runFault, type FaultRow } from './faults.js';
import { askEveryDoor, formatDoorTable } from './bad-input.js';
import { startCollector } from '../runtime/collector.js';

const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'direct' },
    orders: { type: 'string', default: '300' },
    rate: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    samplers: { type: 'string', default: '2' },
    lbs: { type: 'string', default: '2' },
    scale: { type: 'boolean', default: false },
    'decision-wait': { type: 'string', default: SAMPLER_ENV.DECISION_WAIT },
    'keep-percent': { type: 'string', default: SAMPLER_ENV.KEEP_PERCENT },
    'slow-trace-ms': { type: 'string', default: SAMPLER_ENV.SLOW_TRACE_MS },
    'head-ratio': { type: 'string', default: '0.25' },
    fault: { type: 'string' },
    'bad-input': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`lab:sampling: ${message}\nusage: npm run lab:sampling -- --topology direct|kafka|head [--orders N] [--rate R] [--concurrency C] [--samplers N] [--lbs N] [--scale] [--fault ${Object.keys(FAULTS).join('|')}|all]`);
  process.exit(2);
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, not "${text}"`);
  return n;
}

const step = (msg: string) => console.log(`[lab:sampling] ${msg}`);

async function main() {
  if (args.help) fail('help');
  if (args['bad-input']) return badInput();
  const topology = args.topology!;
  if (!['direct', 'kafka', 'head'].includes(topology)) fail(`--topology must be direct, kafka or head, not "${topology}"`);
  const orders = positive('orders', args.orders!);
  const rate = positive('rate', args.rate!);
  const shape = { rate, concurrency: positive('concurrency', args.concurrency!) };
  if (args.scale && topology === 'head') fail('--scale needs a sampler tier: use --topology direct or kafka');

  if (topology === 'head') {
    const ratio = positive('head-ratio', args['head-ratio']!);
    step(`starting Kafka, the agent collector, a capture and the services (gateway samples at ${ratio}) …`);
    const lab = await startHeadSamplingLab(ratio);
    step(`sending ${orders} orders at ${rate}/s …`);
    const result = await lab.traffic(orders, shape);
    await settleTraces(() => lab.capture.spans(), result.sampledByHead);
    const report = analyse(lab.capture.spans(), result.traceIds);
    const spans = lab.capture.spans().length;
    console.log(
      formatReport(`head sampling at ${ratio}: ${result.sent} orders in ${result.elapsedSeconds.toFixed(1)} s`, report, [
        `spans kept: ${spans} (${(spans / result.elapsedSeconds).toFixed(0)} spans/s reached the store)`,
      ]),
    );
    return;
  }

  const samplerEnv = {
    DECISION_WAIT: args['decision-wait']!,
    KEEP_PERCENT: args['keep-percent']!,
    SLOW_TRACE_MS: args['slow-trace-ms']!,
  };
  const kind = topology as 'direct' | 'kafka';
  if (args.fault) return faults(kind, args.fault, orders, shape, samplerEnv);
  step(`starting Kafka, ${args.lbs} LB collectors, ${args.samplers} samplers (${kind}), a capture and the services …`);
  const t0 = Date.now();
  const lab = await startSamplingLab({ kind, samplers: positive('samplers', args.samplers!), lbs: positive('lbs', args.lbs!), samplerEnv });
  step(`up in ${((Date.now() - t0) / 1000).toFixed(1)} s; sending ${orders} orders at ${rate}/s${args.scale ? ', adding a sampler a third of the way in' : ''} …`);

  const started = Date.now();
  let ids;
  const extra: string[] = [];
  if (args.scale) {
    const run = await addSamplerUnderTraffic(lab, orders, shape);
    ids = run.ids;
    extra.push(`traces that reached two samplers (decided twice): ${run.decidedTwice}`);
  } else {
    ids = await lab.traffic(orders, shape);
  }
  const seconds = (Date.now() - started) / 1000;
  const spansIn = await lab.topology.spansAccepted();
  step('waiting for the samplers to decide …');
  await waitForDecisions(lab.topology, args.scale ? 0 : CATEGORIES.reduce((n, c) => n + ids[c].length, 0));

  const report = analyse(lab.topology.capture.spans(), ids);
  console.log(
    formatReport(`tail sampling, ${kind}${args.scale ? ', a sampler added mid-run' : ''}: ${orders} orders in ${seconds.toFixed(1)} s`, report, [
      ...(await samplerLines(lab.topology)),
      ...extra,
      `spans into the LB tier: ${spansIn} (${(spansIn / seconds).toFixed(0)} spans/s); policies: errors, slower than ${samplerEnv.SLOW_TRACE_MS} ms, ${samplerEnv.KEEP_PERCENT} % of the rest; decision_wait ${samplerEnv.DECISION_WAIT}`,
    ]),
  );
}

/** --bad-input: every bad request at the agent, an LB and a sampler; what each door answered. */
async function badInput() {
  step('starting Kafka, the direct topology (2 LBs, 2 samplers), the agent and a capture …');
  const lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2, samplerEnv: SAMPLER_ENV });
  const { capture } = lab.topology;
  const agent = await startCollector({ config: 'collector/agent.yaml', env: { TRACES_EXPORT_ENDPOINT: capture.otlpGrpc, METRICS_EXPORT_ENDPOINT: capture.otlpHttp } });
  step('sending the bad requests …');
  const answers = await askEveryDoor({ agent: agent.otlpHttp, 'lb-1': lab.topology.lbs[0].otlpHttp, 'sampler-1': lab.topology.samplers[0].collector.otlpHttp });
  console.log(`\n== bad input at the front doors (status and the collector's message)\n\n${formatDoorTable(answers)}`);
  const dead = [agent, ...lab.topology.lbs, ...lab.topology.samplers.map((s) => s.collector)].filter((c) => c.process.exit);
  console.log(dead.length ? `crashed: ${dead.map((c) => c.name).join(', ')}` : 'every door still running');
}

/** --fault: one scenario, or every scenario of the topology in a row on one lab; the fault table. */
async function faults(kind: 'direct' | 'kafka', name: string, orders: number, shape: { rate: number; concurrency: number }, samplerEnv: Record<string, string>) {
  const names = name === 'all' ? Object.keys(FAULTS).filter((f) => FAULTS[f].kinds.includes(kind) && !FAULTS[f].benchOnly) : [name];
  for (const n of names) {
    if (!FAULTS[n]) fail(`--fault must be one of ${Object.keys(FAULTS).join(', ')} or all, not "${n}"`);
    if (!FAULTS[n].kinds.includes(kind)) fail(`--fault ${n} needs --topology ${FAULTS[n].kinds.join(' or ')}`);
  }
  const ownSpansBroker = names.some((n) => FAULTS[n].ownSpansBroker);
  step(`starting Kafka${ownSpansBroker ? ' (shop) + Kafka (spans)' : ''}, 2 LB collectors, 2 samplers (${kind}), a capture and the services …`);
  const lab = await startSamplingLab({ kind, samplers: 2, lbs: 2, samplerEnv, ownSpansBroker });
  const wait = Number.parseFloat(samplerEnv.DECISION_WAIT);
  const rows: FaultRow[] = [];
  for (const n of names) {
    step(`fault ${n}: ${FAULTS[n].title}; ${orders} orders at ${shape.rate}/s …`);
    const row = await runFault(lab, n, orders, shape, wait);
    rows.push(row);
    step(`fault ${n}: done in ${row.seconds.toFixed(1)} s (traffic at ${row.rate.toFixed(1)} orders/s)`);
  }
  console.log(`\n== faults under traffic, ${kind}: ${orders} orders per scenario at ${shape.rate}/s, decision_wait ${samplerEnv.DECISION_WAIT}\n`);
  console.log(formatFaultTable(rows));
}

main()
  .catch((err) => {
    console.error(`lab:sampling: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
