// The pipeline run span and the pipeline metrics of the conventions, shared by a standalone
// test run (test-run.ts) and the pipeline runner (pipeline.ts):
//   span   RUN <pipeline>, kind SERVER, cicd.pipeline.name/run.id/action.name/result, error.type
//   cicd.pipeline.run.duration  histogram, s   {cicd.pipeline.name, cicd.pipeline.run.state, cicd.pipeline.result, error.type}
//   cicd.pipeline.run.errors    counter        {cicd.pipeline.name, error.type}
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import {
  ATTR_CICD_PIPELINE_ACTION_NAME,
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_CICD_PIPELINE_RUN_STATE,
  ATTR_ERROR_TYPE,
  CICD_PIPELINE_ACTION_NAME_VALUE_RUN,
  CICD_PIPELINE_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_RUN_STATE_VALUE_EXECUTING,
  METRIC_CICD_PIPELINE_RUN_DURATION,
  METRIC_CICD_PIPELINE_RUN_ERRORS,
} from './semconv.js';
import type { CicdTelemetry } from './telemetry.js';

export interface PipelineRun {
  span: Span;
  context: Context;
  startMs: number;
}

export function startPipelineRun(telemetry: CicdTelemetry, startMs: number): PipelineRun {
  const { tracer, identity } = telemetry;
  const span = tracer.startSpan(
    `${CICD_PIPELINE_ACTION_NAME_VALUE_RUN} ${identity.pipelineName}`,
    {
      kind: SpanKind.SERVER,
      startTime: startMs,
      attributes: {
        [ATTR_CICD_PIPELINE_NAME]: identity.pipelineName,
        [ATTR_CICD_PIPELINE_RUN_ID]: identity.runId,
        [ATTR_CICD_PIPELINE_ACTION_NAME]: CICD_PIPELINE_ACTION_NAME_VALUE_RUN,
      },
    },
    ROOT_CONTEXT,
  );
  return { span, context: trace.setSpan(ROOT_CONTEXT, span), startMs };
}

export function endPipelineRun(
  telemetry: CicdTelemetry,
  run: PipelineRun,
  outcome: { endMs: number; errors: number; errorType: string; message?: string },
): void {
  const { meter, identity } = telemetry;
  const failed = outcome.errors > 0;
  const result = failed ? CICD_PIPELINE_RESULT_VALUE_FAILURE : CICD_PIPELINE_RESULT_VALUE_SUCCESS;
  run.span.setAttribute(ATTR_CICD_PIPELINE_RESULT, result);
  if (failed) {
    run.span.setAttribute(ATTR_ERROR_TYPE, outcome.errorType);
    run.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message ?? outcome.errorType });
  }
  run.span.end(outcome.endMs);

  const duration = meter.createHistogram(METRIC_CICD_PIPELINE_RUN_DURATION, {
    description: 'Duration of a pipeline run grouped by pipeline, state and result.',
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 5, 10, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600] },
  });
  const errors = meter.createCounter(METRIC_CICD_PIPELINE_RUN_ERRORS, {
    description: 'The number of errors encountered in pipeline runs (eg. compile, test failures).',
    unit: '{error}',
  });
  duration.record((outcome.endMs - run.startMs) / 1000, {
    [ATTR_CICD_PIPELINE_NAME]: identity.pipelineName,
    [ATTR_CICD_PIPELINE_RUN_STATE]: CICD_PIPELINE_RUN_STATE_VALUE_EXECUTING,
    [ATTR_CICD_PIPELINE_RESULT]: result,
    ...(failed ? { [ATTR_ERROR_TYPE]: outcome.errorType } : {}),
  });
  // A counter that exists from the first run on, at 0 when nothing failed.
  errors.add(outcome.errors, { [ATTR_CICD_PIPELINE_NAME]: identity.pipelineName, [ATTR_ERROR_TYPE]: outcome.errorType });
}
