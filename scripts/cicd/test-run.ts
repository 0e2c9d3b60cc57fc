// One vitest run as CI/CD telemetry. The reporter (reporter.ts) collects a plain record of the
// run; this turns it into one trace and the pipeline metrics:
//
//   RUN <pipeline>            SERVER    cicd.pipeline.* , vcs.* (resource), cicd.pipeline.result
//   └─ RUN <test file>        INTERNAL  cicd.pipeline.task.* (type test), test.suite.*
//      └─ <test full name>    INTERNAL  test.case.name, test.case.result.status, lab.test.*
//
// Failures are status ERROR with the error's message; a retried test carries lab.test.retries
// and one event per failed attempt; a test that passed on a retry is lab.test.flaky=true.
// Under the pipeline runner (TRACEPARENT set) the files hang below the runner's task span
// instead and the runner records the pipeline metrics.
import { SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import {
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_TYPE,
  ATTR_LAB_TEST_FLAKY,
  ATTR_LAB_TEST_RETRIES,
  ATTR_TEST_CASE_NAME,
  ATTR_TEST_CASE_RESULT_STATUS,
  ATTR_TEST_SUITE_NAME,
  ATTR_TEST_SUITE_RUN_STATUS,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_TASK_TYPE_VALUE_TEST,
  EVENT_LAB_TEST_ATTEMPT_FAILED,
  METRIC_LAB_TEST_RESULTS,
  TEST_CASE_RESULT_STATUS_VALUE_FAIL,
  TEST_CASE_RESULT_STATUS_VALUE_PASS,
  TEST_SUITE_RUN_STATUS_VALUE_FAILURE,
  TEST_SUITE_RUN_STATUS_VALUE_SUCCESS,
} from './semconv.js';
import { endPipelineRun, startPipelineRun } from './pipeline-run.js';
import { parentFromTraceparent, type CicdTelemetry } from './telemetry.js';

export interface TestRecord {
  /** describe > ... > test */
  name: string;
  state: 'passed' | 'failed';
  startMs: number;
  durationMs: number;
  retries: number;
  flaky: boolean;
  /** Messages of every failed attempt (the last one is the failure, for a failed test). */
  errors: string[];
}

export interface FileRecord {
  /** Path relative to the vitest root: the task's and the suite's name. */
  name: string;
  startMs: number;
  endMs: number;
  tests: TestRecord[];
  /** Errors outside any test (import failed, a hook threw). */
  errors: string[];
}

export interface RunRecord {
  startMs: number;
  endMs: number;
  files: FileRecord[];
  /** Errors vitest reports outside any file. */
  unhandledErrors: string[];
}

export function fileFailed(f: FileRecord): boolean {
  return f.errors.length > 0 || f.tests.some((t) => t.state === 'failed');
}

/** Emits a run as spans (and, standalone, the pipeline metrics). Returns the trace id. */
export function exportTestRun(run: RunRecord, telemetry: CicdTelemetry, traceparent?: string): string {
  const { tracer, meter, identity } = telemetry;
  const underRunner = Boolean(traceparent);
  const results = meter.createCounter(METRIC_LAB_TEST_RESULTS, { description: 'Test results of pipeline runs, by result status.', unit: '{test}' });

  let parent: Context = parentFromTraceparent(traceparent);
  const failedTests = run.files.flatMap((f) => f.tests.filter((t) => t.state === 'failed'));
  const brokenFiles = run.files.filter((f) => f.errors.length > 0);
  const pipeline = underRunner ? undefined : startPipelineRun(telemetry, run.startMs);
  if (pipeline) parent = pipeline.context;
  const traceId = pipeline ? pipeline.span.spanContext().traceId : trace.getSpanContext(parent)?.traceId ?? '';

  run.files.forEach((file, i) => {
    const failed = fileFailed(file);
    const fileSpan = tracer.startSpan(
      `RUN ${file.name}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: file.startMs,
        attributes: {
          [ATTR_CICD_PIPELINE_TASK_NAME]: file.name,
          [ATTR_CICD_PIPELINE_TASK_RUN_ID]: `${identity.runId}/${i + 1}`,
          [ATTR_CICD_PIPELINE_TASK_TYPE]: CICD_PIPELINE_TASK_TYPE_VALUE_TEST,
          [ATTR_CICD_PIPELINE_TASK_RUN_RESULT]: failed ? CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE : CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS,
          [ATTR_TEST_SUITE_NAME]: file.name,
          [ATTR_TEST_SUITE_RUN_STATUS]: failed ? TEST_SUITE_RUN_STATUS_VALUE_FAILURE : TEST_SUITE_RUN_STATUS_VALUE_SUCCESS,
        },
      },
      parent,
    );
    const fileContext = trace.setSpan(parent, fileSpan);
    for (const t of file.tests) {
      const status = t.state === 'passed' ? TEST_CASE_RESULT_STATUS_VALUE_PASS : TEST_CASE_RESULT_STATUS_VALUE_FAIL;
      const span = tracer.startSpan(
        t.name,
        {
          kind: SpanKind.INTERNAL,
          startTime: t.startMs,
          attributes: {
            [ATTR_TEST_CASE_NAME]: t.name,
            [ATTR_TEST_CASE_RESULT_STATUS]: status,
            [ATTR_TEST_SUITE_NAME]: file.name,
            [ATTR_LAB_TEST_RETRIES]: t.retries,
            [ATTR_LAB_TEST_FLAKY]: t.flaky,
          },
        },
        fileContext,
      );
      // Every failed attempt but the last of a failed test is an event; the last one is the status.
      const attempts = t.state === 'failed' ? t.errors.slice(0, -1) : t.errors;
      attempts.forEach((message, attempt) => span.addEvent(EVENT_LAB_TEST_ATTEMPT_FAILED, { attempt: attempt + 1, 'exception.message': message }, t.startMs));
      if (t.state === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: t.errors.at(-1) ?? 'failed' });
      span.end(t.startMs + t.durationMs);
      results.add(1, { [ATTR_CICD_PIPELINE_NAME]: identity.pipelineName, [ATTR_TEST_CASE_RESULT_STATUS]: status, [ATTR_LAB_TEST_FLAKY]: t.flaky });
    }
    if (failed) {
      const nFailed = file.tests.filter((t) => t.state === 'failed').length;
      fileSpan.setStatus({ code: SpanStatusCode.ERROR, message: file.errors[0] ?? `${nFailed} of ${file.tests.length} tests failed` });
    }
    fileSpan.end(file.endMs);
  });

  if (pipeline) {
    const errors = failedTests.length + brokenFiles.length + run.unhandledErrors.length;
    const message = errors === 0 ? undefined : [failedTests.length && `${failedTests.length} tests failed`, brokenFiles.length && `${brokenFiles.length} files did not run`, run.unhandledErrors.length && `${run.unhandledErrors.length} unhandled errors`].filter(Boolean).join(', ');
    endPipelineRun(telemetry, pipeline, { endMs: run.endMs, errors, errorType: 'test_failure', message });
  }
  return traceId;
}
