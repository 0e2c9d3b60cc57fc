// Lab 5 claim: with an eBPF profiler, no agent in the application, the hot JavaScript function
// of a busy Node service shows up by name in the OTLP profiles, attributed to that service's
// process, and a flame graph of those profiles names it.
//
// Real parts: the OpenTelemetry eBPF profiler (built from its Go module), the collector release
// that reads its profiles (collector/profiles.yaml), payments with its CPU-heavy fraud check on.
// Where this machine cannot run the profiler (not Linux, not root, no eBPF) the test fails with
// the reason, unless LAB_PROFILING_SKIP_OK=1 says that a run may go without it.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPayments } from '../../scripts/runtime/load.js';
import { profilerSupport, SKIP_VARIABLE, startProfilesCollector, startProfiler, type ProfilesCollector } from '../../scripts/runtime/profiler.js';
import { startPayments, type RunningService } from '../../scripts/runtime/services.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { samplesOf, type ProfileSample } from '../../scripts/profiling/profiles.js';
import { profilingReport } from '../../scripts/profiling/report.js';
import { useLab } from '../support/lab.js';

useLab();

const HOT = 'scoreFraudRisk';
const unsupported = profilerSupport();
const skipAllowed = process.env[SKIP_VARIABLE] === '1';

/** Whether this machine runs the profiler; fails with the reason unless skipping is allowed. */
function profilerRuns(): boolean {
  if (!unsupported) return true;
  if (skipAllowed) {
    console.warn(`test/profiling: not run (${SKIP_VARIABLE}=1): ${unsupported}`);
    return false;
  }
  throw new Error(`${unsupported}. This lab needs it; set ${SKIP_VARIABLE}=1 to let a run go without it.`);
}

describe('the eBPF profiler finds the hot JavaScript function of a busy service', () => {
  let collector: ProfilesCollector;
  let payments: RunningService;
  let hit: ProfileSample;

  beforeAll(async () => {
    if (unsupported) return;
    [collector, payments] = await Promise.all([
      startProfilesCollector(),
      // ~50 ms of CPU per payment in scoreFraudRisk (services/payments/fraud.ts).
      startPayments({ mode: 'none', env: { PAYMENTS_FRAUD_ROUNDS: '1000000' }, name: 'payments (hot path)' }),
    ]);
    await startProfiler({ collector: collector.otlpGrpc, reporterInterval: '1s' });
    // Drive payments into its hot path until the profile shows it (bounded: 40 s).
    let found: ProfileSample | undefined;
    const pid = payments.process.pid;
    const look = () =>
      (found = collector
        .requests()
        .flatMap(samplesOf)
        .find((s) => s.pid === pid && s.frames.some((f) => f.name === HOT && f.type === 'v8js')));
    const port = Number(new URL(payments.url).port);
    const driving = loadPayments(port, 40, 2, () => found !== undefined);
    hit = await waitFor(look, { what: `a sampled stack of payments (pid ${pid}) with a V8 frame ${HOT}`, timeoutMs: 40_000, intervalMs: 500 });
    await driving;
  });

  it('a collected stack has the JavaScript function scoreFraudRisk, from services/payments/fraud.ts', () => {
    if (!profilerRuns()) return;
    const frame = hit.frames.find((f) => f.name === HOT)!;
    expect(frame.type).toBe('v8js');
    expect(frame.file).toMatch(/services\/payments\/fraud\.ts$/);
    // The rest of the stack is the request's path through express, down to node's own main.
    expect(hit.frames.length).toBeGreaterThan(3);
  });

  it("the stack is attributed to payments' process: its pid, its executable, its OTEL_SERVICE_NAME", () => {
    if (!profilerRuns()) return;
    expect(hit.resource['process.pid']).toBe(payments.process.pid);
    expect(hit.resource['process.executable.name']).toBe('node');
    expect(hit.resource['process.environment_variable.OTEL_SERVICE_NAME']).toBe('payments');
    expect(hit.service).toBe('payments');
  });

  it("payments' flame graph, drawn by d3-flame-graph, names scoreFraudRisk, and it is the widest JavaScript leaf", async () => {
    if (!profilerRuns()) return;
    const report = await profilingReport(collector.requests(), { services: ['payments'], pids: [payments.process.pid], top: 20 });
    const profile = report.services.find((s) => s.service === 'payments')!;
    expect(profile, 'payments in the report').toBeDefined();
    expect(profile.chart.frames).toContain('scoreFraudRisk (payments/fraud.ts)');
    expect(profile.chart.svg).toContain('name="scoreFraudRisk (payments/fraud.ts)"');
    const jsLeaves = profile.hotFunctions.filter((f) => f.type === 'v8js');
    expect(jsLeaves[0]?.name, `hottest JS functions: ${jsLeaves.map((f) => `${f.name} ${f.self}`).join(', ')}`).toBe('scoreFraudRisk (payments/fraud.ts)');
  });
});
