// Lab 4's pipeline runner: runs the steps of a pipeline file (pipeline.yaml) one after the other
// and makes the whole run one trace — the pipeline run span (SERVER), one task span per step,
// one per component scripts/build/all.sh built, and, below the test step, the vitest reporter's
// test files and tests (it hands vitest its span as TRACEPARENT). Records the pipeline metrics
// (cicd.pipeline.run.duration, cicd.pipeline.run.errors). A failed step fails the run; the steps
// after it are recorded as skipped. Exports only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { parse } from 'yaml';
import { repoRoot } from '../runtime/components.js';
import { readCheckout } from './git.js';
import { endPipelineRun, startPipelineRun } from './pipeline-run.js';
import {
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_TYPE,
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RUN_ID,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SKIP,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_TASK_TYPE_VALUE_BUILD,
} from './semconv.js';
import { startCicdTelemetry, traceparentOf } from './telemetry.js';

export interface Step {
  name: string;
  type?: string;
  run: string;
  timings?: boolean;
  tests?: boolean;
  optional?: boolean;
}

export interface PipelineFile {
  name: string;
  steps: Step[];
}

/** Reads and checks a pipeline file; every problem is named in the error. */
export function readPipelineFile(path: string): PipelineFile {
  const file = isAbsolute(path) ? path : join(repoRoot, path);
  if (!existsSync(file)) throw new Error(`pipeline file ${file} does not exist`);
  const doc = parse(readFileSync(file, 'utf8')) as Partial<PipelineFile> | null;
  const problems: string[] = [];
  if (!doc || typeof doc.name !== 'string' || !doc.name) problems.push('`name:` (the pipeline name) is missing');
  if (!Array.isArray(doc?.steps) || doc.steps.length === 0) problems.push('`steps:` is missing or empty');
  for (const [i, s] of (doc?.steps ?? []).entries()) {
    if (!s || typeof s.name !== 'string' || !s.name) problems.push(`step ${i + 1} has no name`);
    if (!s || typeof s.run !== 'string' || !s.run) problems.push(`step ${i + 1} (${s?.name ?? '?'}) has no \`run:\` command`);
  }
  if (problems.length) throw new Error(`pipeline file ${file}: ${problems.join('; ')}`);
  return doc as PipelineFile;
}

export interface StepResult {
  name: string;
  result: 'success' | 'failure' | 'skip';
  code?: number;
  durationMs: number;
  logFile?: string;
}

export interface PipelineResult {
  traceId: string;
  runId: string;
  failed: boolean;
  durationMs: number;
  steps: StepResult[];
}

export interface RunOptions {
  /** Run `optional: true` steps too. */
  withOptional?: boolean;
  /** Extra arguments for the test step's command (e.g. test paths). */
  testArgs?: string[];
  /** Working directory of the steps; default the repo. */
  cwd?: string;
  /** Where the step logs go; default a fresh temp dir. */
  logDir?: string;
  /** The steps' base environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, logFile: string): Promise<number> {
  return new Promise((resolve) => {
    const out = createWriteStream(logFile);
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', (err) => {
      out.end(`\n[pipeline] could not start bash: ${err.message}\n`);
      resolve(127);
    });
    child.once('close', (code) => out.end(() => resolve(code ?? 1)));
  });
}

const tail = (file: string, n = 3) => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
};

/** Runs a pipeline; the trace and metrics go out if OTEL_EXPORTER_OTLP_ENDPOINT is set. */
export async function runPipeline(pipeline: PipelineFile, opts: RunOptions = {}): Promise<PipelineResult> {
  const cwd = opts.cwd ?? repoRoot;
  const log = opts.log ?? ((l: string) => console.error(l));
  const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), 'otel-lab-pipeline-'));
  const telemetry = startCicdTelemetry({ pipelineName: pipeline.name, checkout: readCheckout(cwd) });
  const { tracer, identity } = telemetry;
  const t0 = Date.now();
  const run = startPipelineRun(telemetry, t0);
  const steps: StepResult[] = [];
  let failedStep: string | undefined;
  let taskNo = 0;
  const taskAttrs = (name: string, type: string) => ({
    [ATTR_CICD_PIPELINE_TASK_NAME]: name,
    [ATTR_CICD_PIPELINE_TASK_RUN_ID]: `${identity.runId}/${++taskNo}`,
    [ATTR_CICD_PIPELINE_TASK_TYPE]: type,
  });

  for (const step of pipeline.steps) {
    if (step.optional && !opts.withOptional) continue;
    const type = step.type ?? CICD_PIPELINE_TASK_TYPE_VALUE_BUILD;
    const start = Date.now();
    const span = tracer.startSpan(`RUN ${step.name}`, { kind: SpanKind.INTERNAL, startTime: start, attributes: taskAttrs(step.name, type) }, run.context);
    if (failedStep) {
      span.setAttribute(ATTR_CICD_PIPELINE_TASK_RUN_RESULT, CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SKIP);
      span.end(start);
      steps.push({ name: step.name, result: 'skip', durationMs: 0 });
      log(`[pipeline] ${step.name}: skipped (${failedStep} failed)`);
      continue;
    }
    const logFile = join(logDir, `${taskNo}-${step.name.replace(/[^a-z0-9]+/gi, '-')}.log`);
    const timings = step.timings ? join(logDir, `${taskNo}-timings.txt`) : undefined;
    const env: NodeJS.ProcessEnv = {
      ...(opts.env ?? process.env),
      OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
      // The steps' own telemetry belongs to this run: same pipeline name and run id.
      OTEL_RESOURCE_ATTRIBUTES: [process.env.OTEL_RESOURCE_ATTRIBUTES, `${ATTR_CICD_PIPELINE_NAME}=${identity.pipelineName}`, `${ATTR_CICD_PIPELINE_RUN_ID}=${identity.runId}`].filter(Boolean).join(','),
      ...(step.tests ? { TRACEPARENT: traceparentOf(span) } : {}),
      ...(timings ? { LAB_BUILD_TIMINGS: timings } : {}),
    };
    const command = step.tests && opts.testArgs?.length ? `${step.run} ${opts.testArgs.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}` : step.run;
    log(`[pipeline] ${step.name}: ${command} (log: ${logFile})`);
    const code = await runShell(command, cwd, env, logFile);
    const end = Date.now();
    if (timings && existsSync(timings)) {
      const parent = trace.setSpan(run.context, span);
      for (const line of readFileSync(timings, 'utf8').trim().split('\n')) {
        const [name, s, e, rc] = line.split(' ');
        if (!name || !Number(s)) continue;
        const child = tracer.startSpan(`RUN build ${name}`, { kind: SpanKind.INTERNAL, startTime: Number(s), attributes: taskAttrs(`build ${name}`, CICD_PIPELINE_TASK_TYPE_VALUE_BUILD) }, parent);
        child.setAttribute(ATTR_CICD_PIPELINE_TASK_RUN_RESULT, rc === '0' ? CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS : CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE);
        if (rc !== '0') child.setStatus({ code: SpanStatusCode.ERROR, message: `exit code ${rc}` });
        child.end(Number(e));
      }
    }
    const ok = code === 0;
    span.setAttribute(ATTR_CICD_PIPELINE_TASK_RUN_RESULT, ok ? CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS : CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE);
    if (!ok) {
      failedStep = step.name;
      span.setStatus({ code: SpanStatusCode.ERROR, message: `exit code ${code}: ${tail(logFile, 1)}` });
    }
    span.end(end);
    steps.push({ name: step.name, result: ok ? 'success' : 'failure', code, durationMs: end - start, logFile });
    log(`[pipeline] ${step.name}: ${ok ? 'ok' : `FAILED (exit ${code})`} in ${((end - start) / 1000).toFixed(1)} s${ok ? '' : `\n${tail(logFile, 10)}`}`);
  }

  const endMs = Date.now();
  const errors = steps.filter((s) => s.result === 'failure').length;
  endPipelineRun(telemetry, run, { endMs, errors, errorType: 'step_failure', message: failedStep && `step ${failedStep} failed` });
  await telemetry.shutdown();
  return { traceId: run.span.spanContext().traceId, runId: identity.runId, failed: errors > 0, durationMs: endMs - t0, steps };
}
