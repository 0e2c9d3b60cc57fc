// Benchmark: what Lab 4's reporter costs. The fixture suite (scripts/cicd/fixture-suite) is run
// by a real vitest child process, rounds alternating: without the reporter, with it but no
// OTEL_EXPORTER_OTLP_ENDPOINT (the claim: free), and with it exporting to a real collector.
// Plus the reporter's hooks alone, called in a loop with no endpoint. Prints a table; not a test.
//   npm run bench:cicd -- [rounds]
import { stopAll } from '../runtime/process.js';
import { createFixtureRepo, runSuiteUnderReporter } from '../cicd/demo.js';
import { startCicdLab } from '../cicd/lab.js';
import CicdReporter from '../cicd/reporter.js';

const rounds = Number(process.argv[2] ?? 5);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 30) throw new Error('rounds: a whole number from 1 to 30');
delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. The hooks alone, no endpoint: what every `npm test` pays for having the reporter listed.
const reporter = new CicdReporter();
const fakeModule = { moduleId: 'x' } as never;
const calls = 1_000_000;
const h0 = process.hrtime.bigint();
for (let i = 0; i < calls; i++) {
  reporter.onTestModuleStart(fakeModule);
  reporter.onTestModuleEnd(fakeModule);
}
await reporter.onTestRunEnd([], []);
const nsPerCall = Number(process.hrtime.bigint() - h0) / (2 * calls);

// 2. Whole runs.
const repo = createFixtureRepo('cicd-bench');
repo.commit('bench');
const lab = await startCicdLab();
const modes = {
  'no reporter': { reporter: false },
  'reporter, no endpoint': {},
  'reporter, exporting': { endpoint: lab.otlpEndpoint },
} as const;
const times: Record<string, number[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
await runSuiteUnderReporter(repo.dir, { reporter: false }); // warm the disk cache and vitest's
for (let i = 0; i < rounds; i++) {
  for (const [name, opts] of Object.entries(modes)) {
    const r = await runSuiteUnderReporter(repo.dir, { ...opts, cpu: true });
    times[name].push(r.wallMs);
    cpu[name].push(r.cpuMs ?? NaN);
  }
  console.error(`[bench] round ${i + 1}/${rounds} done`);
}
await stopAll();

const base = median(times['no reporter']);
const baseCpu = median(cpu['no reporter']);
console.table(
  Object.entries(times).map(([mode, t]) => ({
    mode,
    'wall median ms': Math.round(median(t)),
    'wall min ms': Math.round(Math.min(...t)),
    'wall vs none': `${((median(t) / base - 1) * 100).toFixed(1)} %`,
    'CPU median ms': Math.round(median(cpu[mode])),
    'CPU vs none': `${((median(cpu[mode]) / baseCpu - 1) * 100).toFixed(1)} %`,
  })),
);
console.log(`${rounds} rounds, alternating; the fixture suite: 4 files, 7 tests (one sleeps 900 ms). Load average now: ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
console.log(`reporter hooks with no endpoint: ${nsPerCall.toFixed(1)} ns a call (${calls * 2} calls)`);
