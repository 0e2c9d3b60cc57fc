// Lab 4, claim 2: with the runs of two revisions in the stores, the report names the revision
// that made a test slow (and the one before, where it was fast), and Prometheus shows the
// pipeline's duration per revision: the "same pipeline, 3 min vs 9 min" question answered.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/wait.js';
import { createFixtureRepo, FIXTURE, runSuiteUnderReporter } from '../../scripts/cicd/demo.js';
import { startCicdLab, type CicdLab } from '../../scripts/cicd/lab.js';
import { cicdReport, readRuns, DEFAULT_SERVICES, type CicdReport } from '../../scripts/cicd/report.js';
import { useLab } from '../support/lab.js';

describe('two revisions of a scratch repository, the second one slower', () => {
  useLab();
  let lab: CicdLab;
  let fast: string;
  let slow: string;
  let report: CicdReport;
  const t0 = Date.now();

  beforeAll(async () => {
    lab = await startCicdLab();
    const repo = createFixtureRepo();
    repo.setReportWork(20);
    fast = repo.commit('report: render from the cache');
    const first = await runSuiteUnderReporter(repo.dir, { endpoint: lab.otlpEndpoint });
    repo.setReportWork(900);
    slow = repo.commit('report: re-read every order');
    const second = await runSuiteUnderReporter(repo.dir, { endpoint: lab.otlpEndpoint });
    await waitFor(async () => {
      const runs = await readRuns(lab.jaeger.queryUrl, DEFAULT_SERVICES, t0 - 60_000);
      return [first.traceId, second.traceId].every((id) => runs.some((r) => r.traceId === id && r.spans === 1 + FIXTURE.files + FIXTURE.tests));
    }, { what: 'both runs, complete, in Jaeger', timeoutMs: 20_000, intervalMs: 250 });
    await waitFor(async () => (await lab.prometheus.query('cicd_pipeline_run_duration_seconds_count')).length === 2, {
      what: 'both runs in Prometheus',
      timeoutMs: 20_000,
    });
    report = await cicdReport({ jaegerUrl: lab.jaeger.queryUrl, prometheusUrl: lab.prometheus.url, sinceMs: t0 - 60_000 });
  });

  it('reads both runs from Jaeger, in order, each with its revision', () => {
    expect(report.runs.map((r) => r.revision)).toEqual([fast, slow]);
  });

  it('names the revision that introduced the slowdown, and the fast one before it', () => {
    expect(report.slow).toHaveLength(1);
    const s = report.slow[0];
    expect(s.name).toBe(FIXTURE.slow.test);
    expect(s.since).toBe(slow);
    expect(s.fastBefore).toBe(fast);
    expect(s.fastMs!).toBeLessThan(500);
    expect(s.durationMs).toBeGreaterThanOrEqual(895);
  });

  it('says the flaky test flaked from the first revision on (a retry in both runs)', () => {
    expect(report.flaky.map((f) => [f.name, f.since, f.revisions])).toEqual([[FIXTURE.flaky.test, fast, [fast, slow]]]);
  });

  it('shows the pipeline duration per revision in Prometheus (histogram joined with target_info)', () => {
    const byRev = report.metrics!.durationByRevision;
    expect(Object.keys(byRev).sort()).toEqual([fast, slow].sort());
    expect(report.metrics!.runs).toEqual({ 'shop-fixture': { failure: 2 } });
  });
});
