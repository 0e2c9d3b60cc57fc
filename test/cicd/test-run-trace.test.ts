// Lab 4, claim 1: a test run is ONE trace in the conventions' terms — the pipeline run (SERVER),
// one task per test file, one span per test — read back from Jaeger, with the failures, the
// retries and the checkout on it; the pipeline metrics land in Prometheus; and the report built
// from those two stores finds exactly the slow test and the flaky one.
import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Span } from '../../scripts/runtime/otlp.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { createFixtureRepo, FIXTURE, runSuiteUnderReporter, type SuiteRun } from '../../scripts/cicd/demo.js';
import { startCicdLab, type CicdLab } from '../../scripts/cicd/lab.js';
import { cicdReport, type CicdReport } from '../../scripts/cicd/report.js';
import * as sc from '../../scripts/cicd/semconv.js';
import { DEFAULT_SERVICE_NAME } from '../../scripts/cicd/telemetry.js';
import { useLab } from '../support/lab.js';

describe('a vitest run under the lab reporter, as Jaeger and Prometheus hold it', () => {
  useLab();
  let lab: CicdLab;
  let run: SuiteRun;
  let revision: string;
  let repoDir: string;
  let spans: Span[];
  let report: CicdReport;
  const t0 = Date.now();
  const expectedSpans = 1 + FIXTURE.files + FIXTURE.tests;

  beforeAll(async () => {
    lab = await startCicdLab();
    const repo = createFixtureRepo();
    repoDir = repo.dir;
    revision = repo.commit('the shop fixture');
    run = await runSuiteUnderReporter(repo.dir, { endpoint: lab.otlpEndpoint });
    spans = await waitFor(async () => {
      const s = await lab.jaeger.trace(run.traceId);
      return s.length >= expectedSpans && s;
    }, { what: `all ${expectedSpans} spans of trace ${run.traceId} in Jaeger`, timeoutMs: 20_000, intervalMs: 250 });
    await waitFor(async () => (await lab.prometheus.query('cicd_pipeline_run_duration_seconds_count')).length > 0, {
      what: 'cicd_pipeline_run_duration_seconds_count in Prometheus',
      timeoutMs: 20_000,
    });
    report = await cicdReport({ jaegerUrl: lab.jaeger.queryUrl, prometheusUrl: lab.prometheus.url, sinceMs: t0 - 60_000 });
  });

  const root = () => spans.find((s) => !s.parentSpanId)!;
  const files = () => spans.filter((s) => s.parentSpanId === root().spanId);
  const test = (name: string) => spans.find((s) => s.attributes[sc.ATTR_TEST_CASE_NAME] === name)!;

  it('exits like vitest (one fixture test fails) and says which trace it sent', () => {
    expect(run.code).toBe(1);
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is one trace: a SERVER pipeline span, one INTERNAL task per test file, one INTERNAL span per test below its file', () => {
    expect(spans).toHaveLength(expectedSpans);
    expect(spans.filter((s) => !s.parentSpanId)).toHaveLength(1);
    expect(root().kind).toBe('SERVER');
    expect(root().name).toBe(`${sc.CICD_PIPELINE_ACTION_NAME_VALUE_RUN} shop-fixture`);
    expect(files().map((s) => s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME]).sort()).toEqual(
      ['checkout.fixture.ts', 'inventory.fixture.ts', 'pricing.fixture.ts', 'report.fixture.ts'],
    );
    for (const f of files()) expect(f.kind).toBe('INTERNAL');
    const fileIds = new Map(files().map((f) => [f.spanId, f]));
    const tests = spans.filter((s) => s.attributes[sc.ATTR_TEST_CASE_NAME] !== undefined);
    expect(tests).toHaveLength(FIXTURE.tests);
    for (const t of tests) {
      expect(t.kind).toBe('INTERNAL');
      const file = fileIds.get(t.parentSpanId);
      expect(file, `parent of ${t.name}`).toBeDefined();
      expect(t.attributes[sc.ATTR_TEST_SUITE_NAME]).toBe(file!.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME]);
    }
  });

  it('names the pipeline run with the conventions: cicd.pipeline.* on the span, the checkout as vcs.* on the resource', () => {
    const r = root();
    expect(r.attributes[sc.ATTR_CICD_PIPELINE_NAME]).toBe('shop-fixture');
    expect(r.attributes[sc.ATTR_CICD_PIPELINE_RUN_ID]).toBe(run.runId);
    expect(r.attributes[sc.ATTR_CICD_PIPELINE_RESULT]).toBe(sc.CICD_PIPELINE_RESULT_VALUE_FAILURE);
    expect(r.attributes[sc.ATTR_ERROR_TYPE]).toBe('test_failure');
    expect(r.status).toBe('ERROR');
    expect(r.service).toBe(DEFAULT_SERVICE_NAME);
    expect(r.resource[sc.ATTR_VCS_REF_HEAD_REVISION]).toBe(revision);
    expect(r.resource[sc.ATTR_VCS_REF_HEAD_NAME]).toBe('main');
    expect(r.resource[sc.ATTR_VCS_REF_HEAD_TYPE]).toBe(sc.VCS_REF_HEAD_TYPE_VALUE_BRANCH);
    expect(r.resource[sc.ATTR_VCS_REPOSITORY_NAME]).toBe(basename(repoDir));
    expect(r.resource[sc.ATTR_CICD_PIPELINE_RUN_ID]).toBe(run.runId);
  });

  it('makes each file a task of type test with its result, and only the file with the failing test an ERROR', () => {
    const byName = new Map(files().map((f) => [String(f.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME]), f]));
    const runIds = new Set<unknown>();
    for (const [name, f] of byName) {
      const failing = name === FIXTURE.failing.suite;
      expect(f.attributes[sc.ATTR_CICD_PIPELINE_TASK_TYPE]).toBe(sc.CICD_PIPELINE_TASK_TYPE_VALUE_TEST);
      expect(f.attributes[sc.ATTR_CICD_PIPELINE_TASK_RUN_RESULT]).toBe(failing ? sc.CICD_PIPELINE_TASK_RUN_RESULT_VALUE_FAILURE : sc.CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS);
      expect(f.attributes[sc.ATTR_TEST_SUITE_RUN_STATUS]).toBe(failing ? sc.TEST_SUITE_RUN_STATUS_VALUE_FAILURE : sc.TEST_SUITE_RUN_STATUS_VALUE_SUCCESS);
      expect(f.status).toBe(failing ? 'ERROR' : 'UNSET');
      runIds.add(f.attributes[sc.ATTR_CICD_PIPELINE_TASK_RUN_ID]);
    }
    expect(runIds.size).toBe(FIXTURE.files); // unique within the run
  });

  it('records the failing test as test.case.result.status=fail, status ERROR with the assertion message', () => {
    const t = test(FIXTURE.failing.test);
    expect(t.attributes[sc.ATTR_TEST_CASE_RESULT_STATUS]).toBe(sc.TEST_CASE_RESULT_STATUS_VALUE_FAIL);
    expect(t.status).toBe('ERROR');
    expect(t.statusMessage).toContain('expected 20 to be 19.99');
    const passed = spans.filter((s) => s.attributes[sc.ATTR_TEST_CASE_RESULT_STATUS] === sc.TEST_CASE_RESULT_STATUS_VALUE_PASS);
    expect(passed).toHaveLength(FIXTURE.tests - 1);
    for (const p of passed) expect(p.status).toBe('UNSET');
  });

  it('records the retry of the flaky test: passed, lab.test.retries=1, lab.test.flaky, the first attempt as an event', () => {
    const t = test(FIXTURE.flaky.test);
    expect(t.attributes[sc.ATTR_TEST_CASE_RESULT_STATUS]).toBe(sc.TEST_CASE_RESULT_STATUS_VALUE_PASS);
    expect(t.attributes[sc.ATTR_LAB_TEST_RETRIES]).toBe(1);
    expect(t.attributes[sc.ATTR_LAB_TEST_FLAKY]).toBe(true);
    expect(t.events).toEqual([{ name: sc.EVENT_LAB_TEST_ATTEMPT_FAILED, attributes: { attempt: 1, 'exception.message': 'ECONNRESET: stock service hung up (first attempt)' } }]);
    const others = spans.filter((s) => s.attributes[sc.ATTR_LAB_TEST_FLAKY] === true);
    expect(others).toHaveLength(1);
  });

  it('puts the pipeline metrics in Prometheus: one failed run in cicd.pipeline.run.duration, its error, 6 passed and 1 failed test', async () => {
    expect(report.metrics!.runs).toEqual({ 'shop-fixture': { failure: 1 } });
    expect(report.metrics!.errors).toEqual({ 'shop-fixture': 1 });
    expect(report.metrics!.testResults).toEqual({ pass: FIXTURE.tests - 1, fail: 1 });
    expect(report.metrics!.meanDurationS['shop-fixture']).toBeCloseTo(root().durationMs / 1000, 1);
    // The histogram carries the conventions' attributes; the run id stays off the metric's labels.
    const [series] = await lab.prometheus.query('cicd_pipeline_run_duration_seconds_count');
    expect(series.labels).toMatchObject({ cicd_pipeline_name: 'shop-fixture', cicd_pipeline_run_state: 'executing', cicd_pipeline_result: 'failure', error_type: 'test_failure' });
    expect(series.labels.cicd_pipeline_run_id).toBeUndefined();
  });

  it('reports exactly the slow test and exactly the flaky one, read back from the stores', () => {
    expect(report.runs.map((r) => r.traceId)).toEqual([run.traceId]);
    expect(report.slow.map((s) => s.name)).toEqual([FIXTURE.slow.test]);
    expect(report.slow[0].since).toBe(revision);
    expect(report.slow[0].fastBefore).toBeUndefined();
    expect(report.slowestTests[0].name).toBe(FIXTURE.slow.test);
    expect(report.flaky.map((f) => [f.name, f.how, f.since])).toEqual([[FIXTURE.flaky.test, ['retry'], revision]]);
  });
});
