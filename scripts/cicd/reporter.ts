// A vitest reporter (the project's own) that turns a test run into CI/CD telemetry: one trace
// (pipeline run → one task per test file → one span per test) and the pipeline metrics, sent
// over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. Without that variable it does nothing and
// loads nothing: every hook returns at its first line, and the SDK is never imported.
//
//   vitest run --reporter=default --reporter=./scripts/cicd/reporter.ts
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm test      (vitest.config.ts lists it)
//
// The pipeline's name: cicd.pipeline.name in OTEL_RESOURCE_ATTRIBUTES, else the package name;
// its run id: cicd.pipeline.run.id there, else a new UUID. TRACEPARENT (set by the pipeline
// runner, scripts/cicd/pipeline.ts) makes the files children of the runner's task span.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { telemetryEnabled } from './enabled.js';
import type { FileRecord, RunRecord, TestRecord } from './test-run.js';


function packageName(root: string): string {
  try {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name ?? 'tests';
  } catch {
    return 'tests';
  }
}

const message = (e: { message?: string; name?: string } | undefined) => (e?.message ?? e?.name ?? 'unknown error').split('\n')[0];

/** The plain record of one test case, as the reporter keeps it. */
export function testRecord(t: TestCase): TestRecord | undefined {
  const result = t.result();
  if (result.state !== 'passed' && result.state !== 'failed') return undefined; // skipped, pending: no span
  const d = t.diagnostic();
  return {
    name: t.fullName,
    state: result.state,
    startMs: d?.startTime ?? Date.now(),
    durationMs: d?.duration ?? 0,
    retries: d?.retryCount ?? 0,
    flaky: Boolean(d?.flaky),
    errors: (result.errors ?? []).map(message),
  };
}

export default class CicdReporter implements Reporter {
  private readonly enabled = telemetryEnabled();
  private root = process.cwd();
  private startMs = Date.now();
  private readonly moduleTimes = new Map<string, { start: number; end?: number }>();

  onInit(vitest: Vitest) {
    if (!this.enabled) return;
    this.root = vitest.config.root;
    this.startMs = Date.now();
  }

  onTestModuleStart(m: TestModule) {
    if (!this.enabled) return;
    this.moduleTimes.set(m.moduleId, { start: Date.now() });
  }

  onTestModuleEnd(m: TestModule) {
    if (!this.enabled) return;
    const t = this.moduleTimes.get(m.moduleId);
    if (t) t.end = Date.now();
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<{ message?: string }>) {
    if (!this.enabled) return;
    const endMs = Date.now();
    const files: FileRecord[] = modules.map((m) => {
      const tests = [...m.children.allTests()].map(testRecord).filter((t): t is TestRecord => t !== undefined);
      const seen = this.moduleTimes.get(m.moduleId);
      // The file's span covers what the reporter saw and every test in it.
      const startMs = Math.min(seen?.start ?? endMs, ...tests.map((t) => t.startMs));
      const fileEnd = Math.max(seen?.end ?? startMs + (m.diagnostic().duration ?? 0), ...tests.map((t) => t.startMs + t.durationMs));
      return { name: m.relativeModuleId, startMs, endMs: fileEnd, tests, errors: m.errors().map(message) };
    });
    const run: RunRecord = { startMs: Math.min(this.startMs, ...files.map((f) => f.startMs)), endMs, files, unhandledErrors: unhandledErrors.map(message) };

    const [{ exportTestRun }, { startCicdTelemetry }, { readCheckout }] = await Promise.all([import('./test-run.js'), import('./telemetry.js'), import('./git.js')]);
    const telemetry = startCicdTelemetry({ pipelineName: packageName(this.root), checkout: readCheckout(this.root) });
    const traceId = exportTestRun(run, telemetry, process.env.TRACEPARENT);
    await telemetry.shutdown();
    const spans = files.length + files.reduce((n, f) => n + f.tests.length, 0) + (process.env.TRACEPARENT ? 0 : 1);
    console.log(`[cicd] run ${telemetry.identity.runId}: trace ${traceId}, ${spans} spans, to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  }
}
