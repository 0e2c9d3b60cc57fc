// What came out of a sampling topology, per traffic category: how many traces were sent, kept,
// kept COMPLETE, and decided on more than one sampler. Read from the spans the samplers really
// exported (the capture) and from the samplers' own tail_sampling metrics; shared by the
// Lab 2 tests and scripts/sampling/main.ts.
import { byTrace, incompleteness } from '../runtime/orders.js';
import type { Span } from '../runtime/otlp.js';
import { CATEGORIES, type Category } from '../traffic/mix.js';
import type { Topology } from './topology.js';
import { waitFor } from '../runtime/wait.js';

export { CATEGORIES, type Category };
export type TraceIds = Record<Category, string[]>;

/** Where a span carries no lab.sampler (sampler.yaml's resource processor did not run on it). */
export const UNSTAMPED = '(no lab.sampler)';

/** The sampler(s) that exported a trace, from the lab.sampler resource attribute sampler.yaml sets. */
export function samplersOf(spans: Span[]): string[] {
  return [...new Set(spans.map((s) => String(s.resource['lab.sampler'] ?? UNSTAMPED)))].sort();
}

export interface CategoryReport {
  sent: number;
  kept: number;
  complete: number;
  /** trace id → why it is incomplete */
  incomplete: Record<string, string>;
}

export interface SamplingReport {
  categories: Record<Category, CategoryReport>;
  /** Kept traces (any category, or none) whose spans came out of more than one sampler. */
  split: Record<string, string[]>;
  /** Kept traces per sampler, from the exported data. */
  keptBySampler: Record<string, number>;
  /** Every trace id the capture holds. */
  keptTraces: number;
  /** Spans exported more than once (e.g. re-read from Kafka after a rebalance). */
  duplicateSpans: number;
  /** Exported spans without lab.sampler: who decided them is unknown, and `split` cannot see them. */
  unstampedSpans: number;
}

export function analyse(spans: Span[], traceIds: TraceIds): SamplingReport {
  const traces = byTrace(spans);
  const categories = {} as Record<Category, CategoryReport>;
  for (const c of CATEGORIES) {
    const r: CategoryReport = { sent: traceIds[c].length, kept: 0, complete: 0, incomplete: {} };
    for (const id of traceIds[c]) {
      const t = traces.get(id);
      if (!t) continue;
      r.kept++;
      const why = incompleteness(t, c);
      if (why) r.incomplete[id] = why;
      else r.complete++;
    }
    categories[c] = r;
  }
  const split: Record<string, string[]> = {};
  const keptBySampler: Record<string, number> = {};
  for (const [id, t] of traces) {
    const samplers = samplersOf(t);
    if (samplers.length > 1) split[id] = samplers;
    for (const s of samplers) keptBySampler[s] = (keptBySampler[s] ?? 0) + 1;
  }
  const duplicateSpans = spans.length - new Set(spans.map((s) => `${s.traceId}/${s.spanId}`)).size;
  const unstampedSpans = spans.filter((s) => s.resource['lab.sampler'] === undefined).length;
  return { categories, split, keptBySampler, keptTraces: traces.size, duplicateSpans, unstampedSpans };
}

/** [low, high] for a binomial count: n trials at probability p, mean ± `sigmas` standard deviations. */
export function binomialBounds(n: number, p: number, sigmas = 4): [number, number] {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return [Math.max(0, Math.floor(mean - sigmas * sd)), Math.min(n, Math.ceil(mean + sigmas * sd))];
}

/**
 * Waits until the sampler tier has decided everything sent: the LB tier delivered every span it
 * accepted (nothing left in its queues or retries); for kafka, the group has consumed
 * the whole topic; at least `traces` trace ids reached the samplers; each running sampler has
 * decided every trace id it took in (tail_sampling's own counters); and what the samplers
 * exported has stopped moving (the batch processor holds up to 200 ms) and is all in the capture.
 */
export async function waitForDecisions(topology: Topology, traces: number, timeoutMs = 90_000): Promise<void> {
  let last = '';
  // Settled = nothing decided and nothing exported for a second. Measured from the last change
  // of EITHER: a clock on exports alone is already "stable" when the last decision lands (they
  // sat at 0 while nothing was decided), before the kept spans leave the batch processor.
  let stateBefore = '';
  let stableSince = Date.now();
  await waitFor(
    async () => {
      const undelivered = await topology.spansUndelivered();
      const lag = topology.kafka ? await topology.lag() : 0;
      let received = 0;
      let decided = 0;
      let undecided = 0;
      for (const s of topology.samplers) {
        if (s.collector.process.exit) continue;
        const m = await s.metrics();
        received += m.received;
        decided += m.decided;
        undecided += Math.max(0, m.received - m.decided);
      }
      const exported = await topology.spansExported();
      const state = `${decided}/${exported}`;
      if (state !== stateBefore) [stateBefore, stableSince] = [state, Date.now()];
      const stored = topology.capture.spans().length;
      last = `${undelivered} spans not yet delivered by the LB tier, Kafka lag ${lag}, ${received} trace ids received, ${undecided} undecided, ${stored} of ${exported} exported spans stored`;
      return undelivered === 0 && lag === 0 && received >= traces && undecided === 0 && Date.now() - stableSince >= 1000 && stored >= exported;
    },
    { what: `the samplers to decide all ${traces} traces and the capture to hold what they exported`, timeoutMs, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(`${err.message} (at the deadline: ${last})`);
  });
}

/**
 * The ok traces the probabilistic policy alone decided, and how many of them it kept. An ok
 * trace can also be kept for being slower than the threshold (its duration includes
 * fulfillment consuming from Kafka, which lags under load); the samplers count those under
 * their keep-slow policy, with every slow-category trace. Among the rest, kept ~ binomial.
 */
export async function okShare(topology: Topology, report: SamplingReport): Promise<{ n: number; kept: number; keptAsSlow: number }> {
  let keptSlow = 0;
  for (const s of topology.samplers) if (!s.collector.process.exit) keptSlow += (await s.metrics()).keptByPolicy['keep-slow'] ?? 0;
  const keptAsSlow = Math.max(0, keptSlow - report.categories.slow.kept);
  const ok = report.categories.ok;
  return { n: ok.sent - keptAsSlow, kept: ok.kept - keptAsSlow, keptAsSlow };
}

/** The report as a person reads it: one table per topology run. */
export function formatReport(title: string, report: SamplingReport, extra: string[] = []): string {
  const lines = [`== ${title}`, 'category   sent   kept  kept %  complete  incomplete'];
  for (const c of CATEGORIES) {
    const r = report.categories[c];
    const pct = r.sent ? ((100 * r.kept) / r.sent).toFixed(0) : '-';
    lines.push(
      `${c.padEnd(8)} ${String(r.sent).padStart(6)} ${String(r.kept).padStart(6)} ${pct.padStart(7)} ${String(r.complete).padStart(9)} ${String(Object.keys(r.incomplete).length).padStart(11)}`,
    );
  }
  lines.push(
    `kept traces in the store: ${report.keptTraces}; with spans from more than one sampler: ${Object.keys(report.split).length}; duplicate spans: ${report.duplicateSpans}`,
  );
  if (report.unstampedSpans) lines.push(`spans without lab.sampler: ${report.unstampedSpans} (who decided them is unknown)`);
  const bySampler = Object.entries(report.keptBySampler).filter(([s]) => s !== UNSTAMPED);
  if (bySampler.length) lines.push(`kept per sampler (exported data): ${bySampler.map(([s, n]) => `${s}=${n}`).join(' ')}`);
  return [...lines, ...extra].join('\n');
}

/** One line per sampler, from its own metrics: decisions, late spans, memory. */
export async function samplerLines(topology: Topology): Promise<string[]> {
  const lines: string[] = [];
  for (const s of topology.samplers) {
    if (s.collector.process.exit) {
      lines.push(`${s.id}: stopped`);
      continue;
    }
    const m = await s.metrics();
    lines.push(
      `${s.id}: decided ${m.decided} (kept ${m.kept}, dropped ${m.dropped}), late spans kept ${m.lateSpansKept} / dropped ${m.lateSpansDropped}, RSS ${(m.rssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  return lines;
}

/**
 * Waits (up to `timeoutMs`) until every trace in `expected` is in the capture and complete, for
 * pipelines with no decision point to wait for (head sampling). Resolves either way: what is
 * still missing or incomplete at the deadline is for the test's assertions to report.
 */
export async function settleTraces(spans: () => Span[], expected: TraceIds, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () => {
      const traces = byTrace(spans());
      return CATEGORIES.every((c) => expected[c].every((id) => traces.has(id) && !incompleteness(traces.get(id)!, c)));
    },
    { what: 'kept traces to be complete', timeoutMs },
  ).catch(() => undefined);
}
