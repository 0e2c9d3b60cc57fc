// Lab 4's demo pipeline: the fixture suite (fixture-suite/) in a scratch git repository, run by
// a real vitest child process under the lab's reporter, revision after revision. Used by
// `npm run lab:cicd` and the tests.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, runDir } from '../runtime/components.js';

const execFileAsync = promisify(execFile);
export const FIXTURE_SUITE = join(repoRoot, 'scripts/cicd/fixture-suite');
export const REPORTER = join(repoRoot, 'scripts/cicd/reporter.ts');
const VITEST = join(repoRoot, 'node_modules/vitest/vitest.mjs');

/** The fixture suite's names, as the report should see them. */
export const FIXTURE = {
  failing: { suite: 'pricing.fixture.ts', test: 'pricing > rounds VAT to the cent' },
  slow: { suite: 'report.fixture.ts', test: 'report > renders the monthly report' },
  flaky: { suite: 'inventory.fixture.ts', test: 'inventory > reserves stock' },
  /** Tests in the suite, and files. */
  tests: 7,
  files: 4,
} as const;

export interface FixtureRepo {
  dir: string;
  /** Commits the working tree; returns the new revision (full SHA). */
  commit(message: string): string;
  /** The "code change": how long the slow test's work takes, in ms. */
  setReportWork(ms: number): void;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=otel-lab', '-c', 'user.email=lab@otel-lab.invalid', ...args], { cwd: dir, encoding: 'utf8' }).trim();
}

/** A fresh git repository holding the fixture suite (node_modules linked from the lab's). */
export function createFixtureRepo(name = 'cicd-fixture'): FixtureRepo {
  const dir = runDir(name);
  cpSync(FIXTURE_SUITE, dir, { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, '.gitignore'), 'node_modules\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop-fixture', private: true, type: 'module' }, null, 2));
  git(dir, 'init', '-q', '-b', 'main');
  const repo: FixtureRepo = {
    dir,
    commit(message) {
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    setReportWork(ms) {
      const file = join(dir, 'report.fixture.ts');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/const REPORT_WORK_MS = \d+;/, `const REPORT_WORK_MS = ${ms};`));
    },
  };
  return repo;
}

export interface SuiteRun {
  /** vitest's exit code: 1 here, since one fixture test always fails. */
  code: number;
  output: string;
  traceId: string;
  runId: string;
  wallMs: number;
  /** CPU time of the vitest process tree (user + system), when asked for (`cpu: true`). */
  cpuMs?: number;
}

/** Runs a directory's vitest suite in a child process under the lab's reporter. */
export async function runSuiteUnderReporter(
  dir: string,
  opts: { endpoint?: string; resourceAttributes?: Record<string, string>; traceparent?: string; reporter?: boolean; cpu?: boolean } = {},
): Promise<SuiteRun> {
  // The child is its own vitest: none of the parent's VITEST_* worker variables.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.startsWith('OTEL_') && k !== 'TRACEPARENT'));
  if (opts.endpoint) env.OTEL_EXPORTER_OTLP_ENDPOINT = opts.endpoint;
  if (opts.resourceAttributes) env.OTEL_RESOURCE_ATTRIBUTES = Object.entries(opts.resourceAttributes).map(([k, v]) => `${k}=${v}`).join(',');
  if (opts.traceparent) env.TRACEPARENT = opts.traceparent;
  const reporters = opts.reporter === false ? ['--reporter=default'] : ['--reporter=default', `--reporter=${REPORTER}`];
  const t0 = performance.now();
  let command = process.execPath;
  let args = [VITEST, 'run', '--root', dir, '--config', join(dir, 'vitest.config.ts'), ...reporters];
  // GNU time (Debian `time`) reports the CPU of the whole tree: vitest and its workers.
  if (opts.cpu) [command, args] = ['/usr/bin/time', ['-f', '[cpu] %U %S', command, ...args]];
  let code = 0;
  let output: string;
  try {
    const r = await execFileAsync(command, args, { cwd: dir, env, maxBuffer: 16 << 20, timeout: 120_000 });
    output = r.stdout + r.stderr;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw new Error(`vitest in ${dir} did not run: ${e.message}`);
    code = e.code;
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const wallMs = performance.now() - t0;
  const m = /\[cicd\] run (\S+): trace ([0-9a-f]{32})/.exec(output);
  if (!m && opts.endpoint && opts.reporter !== false) {
    throw new Error(`vitest in ${dir} exited ${code} without the reporter's "[cicd] run" line; its output:\n${output.split('\n').slice(-30).join('\n')}`);
  }
  const cpu = /\[cpu\] ([\d.]+) ([\d.]+)/.exec(output);
  if (opts.cpu && code !== 0) code = Number(/Command exited with non-zero status (\d+)/.exec(output)?.[1] ?? code);
  return { code, output, runId: m?.[1] ?? '', traceId: m?.[2] ?? '', wallMs, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined };
}
