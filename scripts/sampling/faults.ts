// Lab 2 under faults: a crash (kill -9), a stall (SIGSTOP/SIGCONT) or a restart of one part of a
// sampling topology while the shop's traffic flows, and what came out of it against the ground
// truth the traffic generator keeps (every trace id and what it should be). One scenario per
// name; each runs on a lab that is already up (so a test or the report can run several in a row
// on one lab), with its own traffic, and returns one row of the fault table.
//
// Faults are placed by the traffic's progress, not by the clock: "a third of the orders in the
// LB tier" (underTraffic), so a slower machine shifts them with the traffic instead of racing it.
import type { Span } from '../runtime/otlp.js';
import { spanCount } from '../runtime/orders.js';
import { underTraffic, type SamplingLab, type TrafficShape } from './lab.js';
import { analyse, binomialBounds, CATEGORIES, type Category, type SamplingReport, type TraceIds } from './report.js';
import type { TopologyKind } from './topology.js';

export interface FaultScenario {
  /** What is done, in the words of the table. */
  title: string;
  kinds: TopologyKind[];
  /** The spans need a broker of their own (a broker fault must not take the shop's orders topic down). */
  ownSpansBroker?: boolean;
  /** What the lab promises for it: 'zero loss' is asserted exactly; 'bounded' by what the crashed part held. */
  promise: 'zero loss' | 'bounded';
  /** Measurement only (npm run bench:crash-gap): left out of `--fault all`. */
  benchOnly?: boolean;
  /** The actions, each run once the given share of the orders reached the LB tier. */
  actions(lab: SamplingLab, state: FaultState): [number, () => Promise<unknown>][];
}

/** What a scenario measured while it ran (from the components' own counters, read just before the fault). */
export interface FaultState {
  /** Trace ids the crashed sampler held undecided at the kill (its received − decided). */
  heldAtKill?: number;
}

/** The sampler every sampler fault hits: the second of two (index 1). */
const VICTIM = 1;

const restartSampler = async (lab: SamplingLab) => {
  await lab.topology.startSampler(VICTIM, { asNew: true });
  if (lab.topology.kind === 'kafka') await lab.topology.waitForConsumers();
};

export const FAULTS: Record<string, FaultScenario> = {
  none: { title: 'none', kinds: ['direct', 'kafka'], promise: 'zero loss', actions: () => [] },
  'sampler-kill': {
    title: 'kill -9 of sampler-2, back at half way',
    kinds: ['direct', 'kafka'],
    promise: 'bounded',
    actions: (lab, state) => [
      [1 / 3, async () => (state.heldAtKill = await lab.topology.killSampler(VICTIM))],
      [1 / 2, () => restartSampler(lab)],
    ],
  },
  // The crash-gap measurement (npm run bench:crash-gap): the kill comes half way into a run
  // longer than twice decision_wait, so the sampler holds a full decision_wait of traffic.
  'sampler-kill-steady': {
    title: 'kill -9 of sampler-2 half way, back soon after',
    kinds: ['direct', 'kafka'],
    promise: 'bounded',
    benchOnly: true,
    actions: (lab, state) => [
      [1 / 2, async () => (state.heldAtKill = await lab.topology.killSampler(VICTIM))],
      [3 / 5, () => restartSampler(lab)],
    ],
  },
  'sampler-kill-long': {
    title: 'kill -9 of sampler-2, back after the group gave its partitions away (session timeout)',
    kinds: ['kafka'],
    promise: 'bounded',
    actions: (lab, state) => [
      [1 / 4, async () => (state.heldAtKill = await lab.topology.killSampler(VICTIM))],
      // waitForConsumers counts the running samplers: 1, once the session timeout expired.
      [1 / 4, () => lab.topology.waitForConsumers()],
      [1 / 4, () => restartSampler(lab)],
    ],
  },
  'sampler-stall': {
    title: 'SIGSTOP of sampler-2, SIGCONT at half way',
    kinds: ['direct', 'kafka'],
    promise: 'zero loss',
    actions: (lab) => [
      [1 / 3, () => lab.topology.pauseSampler(VICTIM)],
      [1 / 2, () => lab.topology.resumeSampler(VICTIM)],
    ],
  },
  'lb-kill': {
    title: 'kill -9 of lb-2 (payments, fulfillment), back at half way',
    kinds: ['direct', 'kafka'],
    promise: 'bounded',
    actions: (lab) => [
      [1 / 3, () => lab.topology.killLb(1)],
      [1 / 2, () => lab.topology.startLb(1)],
    ],
  },
  'broker-kill': {
    title: 'kill -9 of the spans broker, started again at half way',
    kinds: ['kafka'],
    ownSpansBroker: true,
    promise: 'bounded',
    actions: (lab) => [
      [1 / 3, () => lab.topology.kafka!.kill()],
      [1 / 2, () => lab.topology.kafka!.restart()],
    ],
  },
  'broker-restart': {
    title: 'spans broker stopped (SIGTERM), started again at half way',
    kinds: ['kafka'],
    ownSpansBroker: true,
    promise: 'zero loss',
    actions: (lab) => [
      [1 / 3, () => lab.topology.kafka!.stop()],
      [1 / 2, () => lab.topology.kafka!.restart()],
    ],
  },
};

export type FaultName = keyof typeof FAULTS;

export interface FaultRow {
  fault: string;
  kind: TopologyKind;
  title: string;
  promise: FaultScenario['promise'];
  orders: number;
  seconds: number;
  /** Orders per second the traffic really reached. */
  rate: number;
  decisionWaitSeconds: number;
  report: SamplingReport;
  /** Kept error and slow traces, and how many of them are complete (every span). */
  keptErrorSlow: number;
  completeErrorSlow: number;
  /** Error and slow traces sent that did not come out complete: missing, or missing spans. */
  lostErrorSlow: number;
  /** Trace ids that reached the sampler tier twice (two samplers, or one before and after a restart). */
  receivedTwice: number;
  /** The spans the traffic made (ground truth: spans per order kind × orders). */
  spansMade: number;
  /** Spans the LB tier accepted (its receivers' own counter). */
  spansAccepted: number;
  /** Spans the LB tier refused (its receivers said so: the SDKs retry those). */
  spansRefused: number;
  heldAtKill?: number;
  /** Late spans the running samplers dropped meanwhile: spans that reached a sampler after their trace was decided "drop". */
  lateSpansDropped: number;
}

const lateDropped = async (lab: SamplingLab) => {
  let n = 0;
  for (const s of lab.topology.samplers) if (!s.collector.process.exit) n += (await s.metrics()).lateSpansDropped;
  return n;
};

/** Runs one fault scenario with `orders` of traffic on a lab already up; one row of the table. */
export async function runFault(lab: SamplingLab, name: string, orders: number, shape: TrafficShape, decisionWaitSeconds: number): Promise<FaultRow> {
  const scenario = FAULTS[name];
  if (!scenario) throw new Error(`no fault "${name}": one of ${Object.keys(FAULTS).join(', ')}`);
  const { topology } = lab;
  if (!scenario.kinds.includes(topology.kind)) throw new Error(`fault ${name} needs the ${scenario.kinds.join(' or ')} topology, not ${topology.kind}`);
  if (scenario.ownSpansBroker && topology.kafka === lab.kafka) throw new Error(`fault ${name} needs the spans on a broker of their own (ownSpansBroker)`);
  const state: FaultState = {};
  const acceptedBefore = await topology.spansAcceptedSettled();
  const refusedBefore = await topology.spansRefused();
  const lateBefore = await lateDropped(lab);
  const started = Date.now();
  const run = await underTraffic(lab, orders, shape, scenario.actions(lab, state));
  const seconds = (Date.now() - started) / 1000;
  const report = analyse(spansOf(topology.capture.spans(), run.ids), run.ids);
  const es = (['error', 'slow'] as const).map((c) => report.categories[c]);
  const keptErrorSlow = es.reduce((n, r) => n + r.kept, 0);
  const completeErrorSlow = es.reduce((n, r) => n + r.complete, 0);
  return {
    fault: name,
    kind: topology.kind,
    title: scenario.title,
    promise: scenario.promise,
    orders: run.sent,
    seconds,
    rate: run.sent / run.trafficSeconds,
    decisionWaitSeconds,
    report,
    keptErrorSlow,
    completeErrorSlow,
    lostErrorSlow: es.reduce((n, r) => n + r.sent - r.complete, 0),
    receivedTwice: run.decidedTwice,
    spansMade: CATEGORIES.reduce((n, c) => n + run.ids[c].length * spanCount(c), 0),
    spansAccepted: (await topology.spansAccepted()) - acceptedBefore,
    spansRefused: (await topology.spansRefused()) - refusedBefore,
    heldAtKill: state.heldAtKill,
    // A restarted sampler's counter starts again at 0: read as a delta, never below 0.
    lateSpansDropped: Math.max(0, (await lateDropped(lab)) - lateBefore),
  };
}

/** The spans of the given traces only (a lab that ran several scenarios holds them all). */
function spansOf(spans: Span[], ids: TraceIds): Span[] {
  const mine = new Set(CATEGORIES.flatMap((c) => ids[c]));
  return spans.filter((s) => mine.has(s.traceId));
}

const kept = (row: FaultRow, c: Category) => `${row.report.categories[c].kept}/${row.report.categories[c].sent}`;

/**
 * tail_sampling decides once a second (its tick) the traces older than decision_wait: a trace is
 * held decision_wait plus up to one tick.
 */
export const DECISION_TICK_SECONDS = 1;

/**
 * The crash gap's expected size: the traces a sampler holds are those that started within the
 * last decision_wait (+ up to a tick), rate × that many, of which the crashed sampler owns its share.
 */
export const crashBound = (rate: number, decisionWaitSeconds: number, share: number) => rate * (decisionWaitSeconds + DECISION_TICK_SECONDS) * share;

/**
 * A crash row against the law: the traces the killed sampler held, and the most it can hold by
 * the law (rate × (decision_wait + a tick) traces in flight, each its with probability `share`: a
 * binomial's 4-sigma top). Printed, for the tests and the report to compare.
 */
export function crashGap(row: FaultRow, share = 1 / 2): { held: number; most: number } {
  const held = row.heldAtKill ?? 0;
  const [, most] = binomialBounds(Math.ceil(crashBound(row.rate, row.decisionWaitSeconds, 1)), share);
  console.log(`${row.fault} (${row.kind}): the killed sampler held ${held} traces (at most ${most} by the law); error+slow not kept complete: ${row.lostErrorSlow}`);
  return { held, most };
}

/** The fault table as a person reads it (markdown, the columns and a few more). */
export function formatFaultTable(rows: FaultRow[]): string {
  const lines = [
    '| fault | topology | errors kept | slow kept | ok kept | kept error+slow complete | split (kept, 2 samplers) | reached the tier twice | spans made / accepted / refused at the front door | duplicate spans | late spans dropped | held by the crashed sampler |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const complete = r.keptErrorSlow ? `${((100 * r.completeErrorSlow) / r.keptErrorSlow).toFixed(0)} %` : '-';
    lines.push(
      `| ${r.title} | ${r.kind} | ${kept(r, 'error')} | ${kept(r, 'slow')} | ${kept(r, 'ok')} | ${complete} | ${Object.keys(r.report.split).length} | ${r.receivedTwice} | ${r.spansMade} / ${r.spansAccepted} / ${r.spansRefused} | ${r.report.duplicateSpans} | ${r.lateSpansDropped} | ${r.heldAtKill ?? '-'} |`,
    );
  }
  return lines.join('\n');
}
