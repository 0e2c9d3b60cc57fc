// Lab 4, claim 4: a real CI system's events work too. The Collector's own GitHub receiver
// (contrib githubreceiver, in the lab's build) is fed the signed webhook deliveries of a
// recorded `ci` workflow (scripts/cicd/github-events/); its traces land in Jaeger, and the same
// report finds what happened there: the test job that failed and passed on a re-run of one
// commit (flaky), the build job that became slow at the next commit.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/wait.js';
import { GITHUB_SERVICE_NAME, readDeliveries, sendDeliveries, signature } from '../../scripts/cicd/github.js';
import { startCicdLab, type CicdLab } from '../../scripts/cicd/lab.js';
import { cicdReport, GITHUB_RECEIVER_NAMES, readRuns, type CicdReport } from '../../scripts/cicd/report.js';
import * as sc from '../../scripts/cicd/semconv.js';
import { useLab } from '../support/lab.js';

const SHA_A = '3f2a9c1d4b5e6f708192a3b4c5d6e7f8091a2b3c';
const SHA_B = '9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c';
const SECRET = 'otel-lab-webhook-secret'; // collector/cicd.yaml's default
const SINCE = Date.parse('2026-11-30T09:00:00Z'); // the recorded runs' day

describe("GitHub Actions webhooks through the Collector's GitHub receiver", () => {
  useLab();
  let lab: CicdLab;
  let webhook: string;
  let report: CicdReport;

  beforeAll(async () => {
    lab = await startCicdLab();
    webhook = `http://${lab.collector.listen.GITHUB_WEBHOOK_LISTEN}/events`;
    await sendDeliveries(webhook, SECRET);
    await waitFor(async () => {
      const runs = await readRuns(lab.jaeger.queryUrl, [GITHUB_SERVICE_NAME], SINCE);
      // 3 workflow runs, each: its span, 2 jobs, their queue spans and steps (4 + 3).
      return runs.length === 3 && runs.every((r) => r.spans === 1 + 2 + 2 + 7);
    }, { what: 'the 3 workflow-run traces, complete, in Jaeger', timeoutMs: 20_000, intervalMs: 250 });
    report = await cicdReport({ jaegerUrl: lab.jaeger.queryUrl, services: [GITHUB_SERVICE_NAME], sinceMs: SINCE, slowTaskMs: 60_000 });
  });

  it('refuses a delivery whose signature does not match the secret', async () => {
    const [d] = readDeliveries();
    const res = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': d.event, 'x-github-delivery': 'x', 'x-hub-signature-256': signature('wrong secret', d.body) },
      body: d.body,
    });
    expect(res.status).toBe(400);
  });

  it('turns each workflow run into a trace: the run SERVER, its jobs INTERNAL below it, the checkout on the resource', () => {
    expect(report.runs.map((r) => [r.pipeline, r.revision, r.branch, r.failed])).toEqual([
      ['ci', SHA_A, 'main', true],
      ['ci', SHA_A, 'main', false],
      ['ci', SHA_B, 'main', false],
    ]);
    for (const r of report.runs) {
      expect(r.service).toBe(GITHUB_SERVICE_NAME);
      expect(r.tasks.filter((t) => t.depth === 1).map((t) => t.name).sort()).toEqual(['build', 'test']);
    }
  });

  it('uses the conventions: cicd.pipeline.name and vcs.ref.head.revision on the resource, cicd.pipeline.task.name on each step', async () => {
    const spans = await lab.jaeger.trace(report.runs[0].traceId);
    const root = spans.find((s) => s.kind === 'SERVER')!;
    expect(root.resource[sc.ATTR_CICD_PIPELINE_NAME]).toBe('ci');
    expect(root.resource[sc.ATTR_VCS_REF_HEAD_REVISION]).toBe(SHA_A);
    expect(root.resource[sc.ATTR_VCS_REPOSITORY_NAME]).toBe('shop');
    // Where v0.145.0 lags the conventions the lab follows: the branch and the result under older
    // names (the report reads both).
    expect(root.resource[sc.ATTR_VCS_REF_HEAD_NAME]).toBeUndefined();
    expect(root.resource[GITHUB_RECEIVER_NAMES.branch]).toBe('main');
    expect(root.resource[sc.ATTR_CICD_PIPELINE_RESULT]).toBeUndefined();
    expect(root.resource[GITHUB_RECEIVER_NAMES.result]).toBe('failure');
    expect(root.status).toBe('ERROR');
    const steps = spans.filter((s) => s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME] !== undefined);
    expect(steps.map((s) => s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME]).sort()).toEqual(
      ['Build', 'Run actions/checkout@v4', 'Run actions/checkout@v4', 'Run tests', 'Set up job', 'Set up job', 'npm ci'].sort(),
    );
    expect(steps.find((s) => s.attributes[sc.ATTR_CICD_PIPELINE_TASK_NAME] === 'Run tests')!.status).toBe('ERROR');
  });

  it('reports the test job (and its "Run tests" step) as flaky: failed, then passed on a re-run of the same commit', () => {
    expect(report.flaky.map((f) => [f.kind, f.name, f.how, f.since]).sort()).toEqual([
      ['task', 'Run tests', ['flip'], SHA_A],
      ['task', 'test', ['flip'], SHA_A],
    ]);
  });

  it('reports the build job (and its Build step) as slow since the next commit, fast before it', () => {
    expect(report.slowTasks.map((s) => [s.name, s.since, s.fastBefore, Math.round(s.durationMs / 1000), Math.round(s.fastMs! / 1000)])).toEqual([
      ['build', SHA_B, SHA_A, 99, 44],
      ['Build', SHA_B, SHA_A, 71, 17],
    ]);
  });
});
