// Lab 4, claim 3: the pipeline's own steps are tasks of the same trace. The runner runs a small
// pipeline — the real component build script (its per-component timings become child spans), a
// check, the fixture suite under the reporter, a deploy — and Jaeger holds one trace: the run
// (SERVER), a task per step, the build's components below it, the test files below the test
// step, the deploy skipped after the test step failed; the run's metrics reach Prometheus.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDir, repoRoot } from '../../scripts/runtime/components.js';
import type { Span } from '../../scripts/runtime/otlp.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { createFixtureRepo, FIXTURE, REPORTER } from '../../scripts/cicd/demo.js';
import { startCicdLab, type CicdLab } from '../../scripts/cicd/lab.js';
import { readPipelineFile, runPipeline, type PipelineResult } from '../../scripts/cicd/pipeline.js';
import { readMetrics } from '../../scripts/cicd/report.js';
import * as sc from '../../scripts/cicd/semconv.js';
import { useLab } from '../support/lab.js';

describe('a pipeline of four steps under the lab runner', () => {
  useLab();
  let lab: CicdLab;
  let result: PipelineResult;
  let spans: Span[];
  let file: string;
  let revision: string;

  beforeAll(async () => {
    lab = await startCicdLab();
    const repo = createFixtureRepo();
    revision = repo.commit('the shop fixture');
    file = join(runDir('cicd-pipeline'), 'pipeline.yaml');
    const vitest = `"${process.execPath}" "${join(repoRoot, 'node_modules/vitest/vitest.mjs')}"`;
    writeFileSync(
      file,
      [
        'name: shop',
        'steps:',
        `  - { name: build components, type: build, timings: true, run: 'bash "${repoRoot}/scripts/build/all.sh" collector' }`,
        `  - { name: check, type: build, run: 'node -e "process.exit(0)"' }`,
        `  - { name: test, type: test, tests: true, run: '${vitest} run --reporter=default --reporter="${REPORTER}"' }`,
        `  - { name: deploy, type: deploy, run: 'echo never' }`,
      ].join('\n'),
    );
    // The runner exports to OTEL_EXPORTER_OTLP_ENDPOINT; the step's vitest is its own (no VITEST_* of this worker).
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = lab.otlpEndpoint;
    try {
      result = await runPipeline(readPipelineFile(file), { cwd: repo.dir, env, log: () => {} });
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
    const expected = 1 + 4 + 1 + FIXTURE.files + FIXTURE.tests;
    spans = await waitFor(async () => {
      const s = await lab.jaeger.trace(result.traceId);
      return s.length >= expected && s;
    }, { what: `the ${expected} spans of pipeline trace ${result.traceId}`, timeoutMs: 20_000, intervalMs: 250 });
  });

  const task = (name: string) => spans.find((s) => s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME] === name)!;

  it('fails the run at the test step and skips the deploy', () => {
    expect(result.steps.map((s) => [s.name, s.result])).toEqual([
      ['build components', 'success'],
      ['check', 'success'],
      ['test', 'failure'],
      ['deploy', 'skip'],
    ]);
    expect(result.failed).toBe(true);
  });

  it('is one trace: the run (SERVER) with one task per step, in order', () => {
    const root = spans.find((s) => !s.parentSpanId)!;
    expect(spans.filter((s) => !s.parentSpanId)).toHaveLength(1);
    expect(root.kind).toBe('SERVER');
    expect(root.name).toBe('RUN shop');
    expect(root.attributes[sc.ATTR_CICD_PIPELINE_RESULT]).toBe(sc.CICD_PIPELINE_RESULT_VALUE_FAILURE);
    expect(root.attributes[sc.ATTR_ERROR_TYPE]).toBe('step_failure');
    const steps = spans.filter((s) => s.parentSpanId === root.spanId).sort((a, b) => a.startMs - b.startMs);
    expect(steps.map((s) => [s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME], s.attributes[sc.ATTR_CICD_PIPELINE_TASK_TYPE], s.attributes[sc.ATTR_CICD_PIPELINE_TASK_RUN_RESULT]])).toEqual([
      ['build components', 'build', 'success'],
      ['check', 'build', 'success'],
      ['test', 'test', 'failure'],
      ['deploy', 'deploy', 'skip'],
    ]);
    for (const s of steps) expect(s.kind).toBe('INTERNAL');
    expect(task('test').status).toBe('ERROR');
    expect(task('test').statusMessage).toMatch(/^exit code 1/);
  });

  it("puts each component all.sh built (or found) below the build step, with its own timing", () => {
    const c = task('build collector');
    expect(c.parentSpanId).toBe(task('build components').spanId);
    expect(c.attributes[sc.ATTR_CICD_PIPELINE_TASK_RUN_RESULT]).toBe(sc.CICD_PIPELINE_TASK_RUN_RESULT_VALUE_SUCCESS);
    expect(c.durationMs).toBeLessThanOrEqual(task('build components').durationMs);
  });

  it("hangs the reporter's test files below the test step (TRACEPARENT), with the same run id", () => {
    const step = task('test');
    const files = spans.filter((s) => s.parentSpanId === step.spanId);
    expect(files).toHaveLength(FIXTURE.files);
    for (const f of files) {
      expect(f.attributes[sc.ATTR_CICD_PIPELINE_TASK_TYPE]).toBe(sc.CICD_PIPELINE_TASK_TYPE_VALUE_TEST);
      expect(f.resource[sc.ATTR_CICD_PIPELINE_RUN_ID]).toBe(result.runId);
    }
    expect(spans.filter((s) => s.attributes[sc.ATTR_TEST_CASE_NAME] !== undefined)).toHaveLength(FIXTURE.tests);
    // Under the runner the reporter makes no pipeline span of its own.
    expect(spans.filter((s) => s.kind === 'SERVER')).toHaveLength(1);
  });

  it('records the run in cicd.pipeline.run.duration and one step error in cicd.pipeline.run.errors', async () => {
    const runs = await waitFor(async () => {
      const s = await lab.prometheus.query('cicd_pipeline_run_duration_seconds_count{cicd_pipeline_name="shop"}');
      return s.length > 0 && s;
    }, { what: 'the pipeline run in Prometheus', timeoutMs: 20_000 });
    expect(runs.map((s) => [s.labels.cicd_pipeline_result, s.value])).toEqual([['failure', 1]]);
    const errors = await lab.prometheus.query('cicd_pipeline_run_errors_total{cicd_pipeline_name="shop"}');
    expect(errors.map((s) => [s.labels.error_type, s.value])).toEqual([['step_failure', 1]]);
    // The steps share the run id (OTEL_RESOURCE_ATTRIBUTES), yet no metric resource carries it:
    // the duration per revision joins each process's target_info without ambiguity.
    const info = await lab.prometheus.query('target_info{cicd_pipeline_name="shop"}');
    expect(info.length).toBeGreaterThanOrEqual(2); // the runner's and the reporter's (test results)
    for (const s of info) expect(s.labels.cicd_pipeline_run_id).toBeUndefined();
    const byRevision = (await readMetrics(lab.prometheus.url)).durationByRevision;
    expect(Object.keys(byRevision)).toEqual([revision]);
    expect(byRevision[revision]).toBeCloseTo(result.durationMs / 1000, 1);
  });

  it('refuses a pipeline file without steps, naming the problem', () => {
    const bad = join(runDir('cicd-bad-pipeline'), 'pipeline.yaml');
    writeFileSync(bad, 'name: shop\nsteps: []\n');
    expect(() => readPipelineFile(bad)).toThrow(/`steps:` is missing or empty/);
  });
});
