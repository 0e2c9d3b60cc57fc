// The attributes and metric names Lab 4 writes and reads, from the OpenTelemetry CI/CD, test and
// VCS semantic conventions as @opentelemetry/semantic-conventions ships them (its `incubating`
// entry point; the conventions are in Development status, so they are imported, not copied:
// an upgrade that renames one shows up as a type error here, not as a silent mismatch).
// What the conventions do not name (retries, flakiness, per-test result counts) is `lab.*`.
export {
  ATTR_CICD_PIPELINE_ACTION_NAME,
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RESULT,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_CICD_PIPELINE_RUN_STATE,
  ATTR_CICD_PIPELINE_TASK_NAME,
  ATTR_CICD_PIPELINE_TASK_RUN_ID,
  ATTR_CICD_PIPELINE_TASK_RUN_RESULT,
  ATTR_CICD_PIPELINE_TASK_TYPE,
  ATTR_TEST_CASE_NAME,
  ATTR_TEST_CASE_RESULT_STATUS,
  ATTR_TEST_SUITE_NAME,
  ATTR_TEST_SUITE_RUN_STATUS,
  ATTR_VCS_PROVIDER_NAME,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REF_HEAD_TYPE,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REPOSITORY_URL_FULL,
  CICD_PIPELINE_ACTION_NAME_VALUE_RUN,
  CICD_PIPELINE_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_RUN_STATE_VALUE_EXECUTING,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SKIP,
  CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS,
  CICD_PIPELINE_TASK_TYPE_VALUE_BUILD,
  CICD_PIPELINE_TASK_TYPE_VALUE_TEST,
  METRIC_CICD_PIPELINE_RUN_DURATION,
  METRIC_CICD_PIPELINE_RUN_ERRORS,
  TEST_CASE_RESULT_STATUS_VALUE_FAIL,
  TEST_CASE_RESULT_STATUS_VALUE_PASS,
  TEST_SUITE_RUN_STATUS_VALUE_FAILURE,
  TEST_SUITE_RUN_STATUS_VALUE_SUCCESS,
  VCS_REF_HEAD_TYPE_VALUE_BRANCH,
} from '@opentelemetry/semantic-conventions/incubating';
export { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The package (and so the conventions' release) these names come from. */
export const SEMCONV_PACKAGE = '@opentelemetry/semantic-conventions';

// Not in the conventions (v1.45.0 has no retry or flakiness attribute for a test case).
/** How many times a test was retried in this run (vitest `retry`). */
export const ATTR_LAB_TEST_RETRIES = 'lab.test.retries';
/** A test that failed and then passed on a retry, in the same run. */
export const ATTR_LAB_TEST_FLAKY = 'lab.test.flaky';
/** Counter of test results by test.case.result.status (and lab.test.flaky). */
export const METRIC_LAB_TEST_RESULTS = 'lab.cicd.test.results';
/** Span event on a test span, one per failed attempt that was retried. */
export const EVENT_LAB_TEST_ATTEMPT_FAILED = 'lab.test.attempt.failed';
