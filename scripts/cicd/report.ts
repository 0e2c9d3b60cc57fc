// Lab 4's report for a person: where pipelines spend their time, which tests are slow or flaky,
// and the revision where that started. Read back from the real stores — the pipeline traces
// from Jaeger's query API, the pipeline metrics from Prometheus — never from the reporter's
// memory. Works on any trace that follows the CI/CD conventions: the lab's reporter and
// pipeline runner, and the Collector's GitHub receiver (attributes on spans or on the resource).
import { byTrace } from '../runtime/orders.js';
import { findJaegerTraces } from '../runtime/jaeger.js';
import type { Span } from '../runtime/otlp.js';
import { instantQuery } from '../runtime/prometheus.js';
import {
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_TYPE,
  ATTR_LAB_TEST_FLAKY,
  ATTR_LAB_TEST_RETRIES,
  ATTR_TEST_CASE_NAME,
  ATTR_TEST_CASE_RESULT_STATUS,
  ATTR_TEST_SUITE_NAME,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  TEST_CASE_RESULT_STATUS_VALUE_FAIL,
} from './semconv.js';

export interface ReportOptions {
  jaegerUrl: string;
  /** Prometheus base URL; without it the report has no `metrics` section. */
  prometheusUrl?: string;
  /** service.name of the pipeline traces (the reporter's default, or the GitHub receiver's service_name). */
  services?: string[];
  /** Only runs that started after this (ms since epoch); default: the last 24 h. */
  sinceMs?: number;
  /** A test (or task) at least this long is slow; default 500 ms. */
  slowMs?: number;
  /** A task (step, job, test file) at least this long is slow; default 60 s. */
  slowTaskMs?: number;
  /** Rows in the "slowest" tables; default 5. */
  top?: number;
}

export interface TestRun {
  suite: string;
  name: string;
  failed: boolean;
  flaky: boolean;
  retries: number;
  durationMs: number;
}

export interface TaskRun {
  name: string;
  type: string;
  failed: boolean;
  durationMs: number;
  /** Depth below the pipeline span: 1 = a step or a test file of a standalone run. */
  depth: number;
}

export interface PipelineRun {
  traceId: string;
  service: string;
  pipeline: string;
  runId: string;
  revision: string;
  branch: string;
  startMs: number;
  durationMs: number;
  failed: boolean;
  spans: number;
  tasks: TaskRun[];
  tests: TestRun[];
}

export interface Timed {
  name: string;
  suite?: string;
  durationMs: number;
  revision: string;
  runId: string;
}

export interface SlowFinding {
  name: string;
  suite?: string;
  durationMs: number;
  /** The first revision of the current slow streak: where it became slow. */
  since: string;
  /** The last revision before it, where it was still fast (absent: slow in every run seen). */
  fastBefore?: string;
  /** Its duration there. */
  fastMs?: number;
}

export interface FlakyFinding {
  name: string;
  suite?: string;
  kind: 'test' | 'task';
  /** retry: failed, then passed on a retry within one run; flip: passed and failed in two runs of one revision. */
  how: Array<'retry' | 'flip'>;
  /** The earliest revision where it flaked (by run time). */
  since: string;
  revisions: string[];
}

export interface MetricsSummary {
  /** pipeline -> result -> runs, from cicd.pipeline.run.duration's count. */
  runs: Record<string, Record<string, number>>;
  /** pipeline -> mean run duration, s. */
  meanDurationS: Record<string, number>;
  /** pipeline -> errors, from cicd.pipeline.run.errors. */
  errors: Record<string, number>;
  /** test.case.result.status -> tests, from lab.cicd.test.results. */
  testResults: Record<string, number>;
  /** revision -> mean run duration, s: the histogram joined with target_info's vcs_ref_head_revision. */
  durationByRevision: Record<string, number>;
}

export interface CicdReport {
  runs: PipelineRun[];
  slowestTests: Timed[];
  slowestTasks: Timed[];
  slow: SlowFinding[];
  /** Tasks (steps, jobs) slow in their latest run, and since which revision. */
  slowTasks: SlowFinding[];
  flaky: FlakyFinding[];
  metrics?: MetricsSummary;
  options: { slowMs: number; slowTaskMs: number; sinceMs: number; services: string[] };
}

export const DEFAULT_SERVICES = ['otel-lab-ci'];

/** An attribute of a span, or of its resource (the GitHub receiver puts cicd.* and vcs.* there). */
function attr(s: Span, key: string): unknown {
  return s.attributes[key] ?? s.resource[key];
}
const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/**
 * Older names for the same things, as the Collector's GitHub receiver v0.145.0 still writes them
 * (its model.go): the branch as `vcs.ref.head`, the run's result as `cicd.pipeline.run.status`.
 * Read when the conventions' own name is absent.
 */
export const GITHUB_RECEIVER_NAMES = { branch: 'vcs.ref.head', result: 'cicd.pipeline.run.status' } as const;

/** One pipeline run from the spans of its trace; undefined if the trace has no pipeline span. */
export function pipelineRunOf(spans: Span[]): PipelineRun | undefined {
  const ids = new Set(spans.map((s) => s.spanId));
  // The pipeline span: a SERVER span without a parent in the trace (the reporter's, the runner's,
  // a GitHub workflow run's); failing that, any root.
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  const root = roots.find((s) => s.kind === 'SERVER') ?? roots[0];
  if (!root) return undefined;
  const parentOf = new Map(spans.map((s) => [s.spanId, s.parentSpanId]));
  const depth = (s: Span) => {
    let d = 0;
    for (let id: string | undefined = s.spanId; id && id !== root.spanId && d < 50; id = parentOf.get(id)) d++;
    return d;
  };
  const tests: TestRun[] = spans
    .filter((s) => attr(s, ATTR_TEST_CASE_NAME) !== undefined && s.attributes[ATTR_TEST_CASE_NAME] !== undefined)
    .map((s) => ({
      suite: str(attr(s, ATTR_TEST_SUITE_NAME)),
      name: str(s.attributes[ATTR_TEST_CASE_NAME]),
      failed: s.attributes[ATTR_TEST_CASE_RESULT_STATUS] === TEST_CASE_RESULT_STATUS_VALUE_FAIL || s.status === 'ERROR',
      flaky: s.attributes[ATTR_LAB_TEST_FLAKY] === true,
      retries: Number(s.attributes[ATTR_LAB_TEST_RETRIES] ?? 0),
      durationMs: s.durationMs,
    }));
  const tasks: TaskRun[] = spans
    .filter((s) => s !== root && s.attributes[ATTR_TEST_CASE_NAME] === undefined && (s.attributes[ATTR_CICD_PIPELINE_TASK_NAME] !== undefined || s.parentSpanId === root.spanId))
    .map((s) => ({
      name: str(s.attributes[ATTR_CICD_PIPELINE_TASK_NAME] ?? s.name),
      type: str(s.attributes[ATTR_CICD_PIPELINE_TASK_TYPE]),
      failed: s.status === 'ERROR' || /failure|error/.test(str(s.attributes[ATTR_CICD_PIPELINE_TASK_RUN_RESULT])),
      durationMs: s.durationMs,
      depth: depth(s),
    }));
  const result = str(attr(root, ATTR_CICD_PIPELINE_RESULT) ?? attr(root, GITHUB_RECEIVER_NAMES.result));
  return {
    traceId: root.traceId,
    service: root.service,
    pipeline: str(attr(root, ATTR_CICD_PIPELINE_NAME) || root.name),
    runId: str(attr(root, ATTR_CICD_PIPELINE_RUN_ID)),
    revision: str(attr(root, ATTR_VCS_REF_HEAD_REVISION)),
    branch: str(attr(root, ATTR_VCS_REF_HEAD_NAME) ?? attr(root, GITHUB_RECEIVER_NAMES.branch)),
    startMs: root.startMs,
    durationMs: root.durationMs,
    failed: root.status === 'ERROR' || result === 'failure' || result === 'error',
    spans: spans.length,
    tasks,
    tests,
  };
}

/** The pipeline runs in Jaeger, oldest first. */
export async function readRuns(jaegerUrl: string, services: string[], sinceMs: number): Promise<PipelineRun[]> {
  const runs: PipelineRun[] = [];
  for (const service of services) {
    const spans = await findJaegerTraces(jaegerUrl, { service, sinceMs });
    for (const trace of byTrace(spans).values()) {
      const run = pipelineRunOf(trace);
      if (run) runs.push(run);
    }
  }
  return runs.sort((a, b) => a.startMs - b.startMs);
}

const key = (suite: string | undefined, name: string) => `${suite ?? ''}\u0000${name}`;

/** Slow now, and since which revision: the first run of the current slow streak. */
export function slowFindings<T extends { name: string; suite?: string; durationMs: number }>(runs: PipelineRun[], pick: (r: PipelineRun) => T[], slowMs: number): SlowFinding[] {
  const history = new Map<string, { item: T; run: PipelineRun }[]>();
  for (const run of runs) for (const item of pick(run)) {
    const k = key(item.suite, item.name);
    if (!history.has(k)) history.set(k, []);
    history.get(k)!.push({ item, run });
  }
  const out: SlowFinding[] = [];
  for (const h of history.values()) {
    const last = h.at(-1)!;
    if (last.item.durationMs < slowMs) continue;
    let i = h.length - 1;
    while (i > 0 && h[i - 1].item.durationMs >= slowMs) i--;
    const before = i > 0 ? h[i - 1] : undefined;
    out.push({
      name: last.item.name,
      suite: last.item.suite,
      durationMs: last.item.durationMs,
      since: h[i].run.revision,
      fastBefore: before?.run.revision,
      fastMs: before?.item.durationMs,
    });
  }
  return out.sort((a, b) => b.durationMs - a.durationMs);
}

/** Flaky tests (retry or flip) and flaky tasks (flip), with the earliest revision where they flaked. */
export function flakyFindings(runs: PipelineRun[]): FlakyFinding[] {
  type Seen = { name: string; suite?: string; kind: 'test' | 'task'; byRevision: Map<string, Set<boolean>>; retryIn: string[]; flakedAt: { revision: string; at: number }[] };
  const seen = new Map<string, Seen>();
  const note = (kind: 'test' | 'task', name: string, suite: string | undefined, run: PipelineRun, failed: boolean, retried: boolean) => {
    const k = `${kind}\u0000${key(suite, name)}`;
    let s = seen.get(k);
    if (!s) seen.set(k, (s = { name, suite, kind, byRevision: new Map(), retryIn: [], flakedAt: [] }));
    const outcomes = s.byRevision.get(run.revision) ?? new Set<boolean>();
    outcomes.add(failed);
    s.byRevision.set(run.revision, outcomes);
    if (retried) {
      s.retryIn.push(run.revision);
      s.flakedAt.push({ revision: run.revision, at: run.startMs });
    }
    if (outcomes.size === 2) s.flakedAt.push({ revision: run.revision, at: run.startMs });
  };
  for (const run of runs) {
    for (const t of run.tests) note('test', t.name, t.suite, run, t.failed, t.flaky);
    // Tasks of runs without test spans (a CI system's jobs and steps): their results can flip too.
    if (run.tests.length === 0) for (const t of run.tasks) note('task', t.name, undefined, run, t.failed, false);
  }
  const out: FlakyFinding[] = [];
  for (const s of seen.values()) {
    if (s.flakedAt.length === 0) continue;
    const flips = [...s.byRevision.entries()].filter(([, o]) => o.size === 2).map(([r]) => r);
    const first = s.flakedAt.sort((a, b) => a.at - b.at)[0];
    out.push({
      name: s.name,
      suite: s.suite,
      kind: s.kind,
      how: [...(s.retryIn.length ? (['retry'] as const) : []), ...(flips.length ? (['flip'] as const) : [])],
      since: first.revision,
      revisions: [...new Set([...s.retryIn, ...flips])],
    });
  }
  return out;
}

function slowest(runs: PipelineRun[], pick: (r: PipelineRun) => { name: string; suite?: string; durationMs: number }[], top: number): Timed[] {
  // Each test or task at its latest run, slowest first.
  const latest = new Map<string, Timed>();
  for (const run of runs) for (const t of pick(run)) latest.set(key(t.suite, t.name), { name: t.name, suite: t.suite, durationMs: t.durationMs, revision: run.revision, runId: run.runId });
  return [...latest.values()].sort((a, b) => b.durationMs - a.durationMs).slice(0, top);
}

async function sumBy(prometheusUrl: string, promql: string, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await instantQuery(prometheusUrl, promql)) out[s.labels[label] ?? ''] = s.value;
  return out;
}

/** The pipeline metrics as Prometheus holds them (names as its OTLP translation writes them). */
export async function readMetrics(prometheusUrl: string, window = '1d'): Promise<MetricsSummary> {
  const last = (m: string) => `last_over_time(${m}[${window}])`;
  const runsSeries = await instantQuery(prometheusUrl, `sum by (cicd_pipeline_name, cicd_pipeline_result) (${last('cicd_pipeline_run_duration_seconds_count')})`);
  const runs: MetricsSummary['runs'] = {};
  for (const s of runsSeries) (runs[s.labels.cicd_pipeline_name] ??= {})[s.labels.cicd_pipeline_result] = s.value;
  const meanDurationS = await sumBy(
    prometheusUrl,
    `sum by (cicd_pipeline_name) (${last('cicd_pipeline_run_duration_seconds_sum')}) / sum by (cicd_pipeline_name) (${last('cicd_pipeline_run_duration_seconds_count')})`,
    'cicd_pipeline_name',
  );
  const errors = await sumBy(prometheusUrl, `sum by (cicd_pipeline_name) (${last('cicd_pipeline_run_errors_total')})`, 'cicd_pipeline_name');
  const testResults = await sumBy(prometheusUrl, `sum by (test_case_result_status) (${last('lab_cicd_test_results_total')})`, 'test_case_result_status');
  // The revision is a resource attribute (target_info), not a label of every series: joined here.
  // (max by: one target_info per instance even if two processes of a run share it.)
  const info = `max by (job, instance, vcs_ref_head_revision) (${last('target_info')})`;
  const byRev = (m: string) => `sum by (vcs_ref_head_revision) (${last(m)} * on (job, instance) group_left (vcs_ref_head_revision) ${info})`;
  const durationByRevision = await sumBy(
    prometheusUrl,
    `${byRev('cicd_pipeline_run_duration_seconds_sum')} / ${byRev('cicd_pipeline_run_duration_seconds_count')}`,
    'vcs_ref_head_revision',
  );
  return { runs, meanDurationS, errors, testResults, durationByRevision };
}

export async function cicdReport(opts: ReportOptions): Promise<CicdReport> {
  const slowMs = opts.slowMs ?? 500;
  const sinceMs = opts.sinceMs ?? Date.now() - 24 * 3600_000;
  const services = opts.services ?? DEFAULT_SERVICES;
  const top = opts.top ?? 5;
  const slowTaskMs = opts.slowTaskMs ?? 60_000;
  const runs = await readRuns(opts.jaegerUrl, services, sinceMs);
  const tasksOf = (r: PipelineRun) => r.tasks;
  return {
    runs,
    slowestTests: slowest(runs, (r) => r.tests, top),
    slowestTasks: slowest(runs, tasksOf, top),
    slow: slowFindings(runs, (r) => r.tests, slowMs),
    slowTasks: slowFindings(runs, tasksOf, slowTaskMs),
    flaky: flakyFindings(runs),
    metrics: opts.prometheusUrl ? await readMetrics(opts.prometheusUrl) : undefined,
    options: { slowMs, slowTaskMs, sinceMs, services },
  };
}
