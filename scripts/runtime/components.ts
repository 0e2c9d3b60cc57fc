// Where the natively built components are. The build scripts are the one source of truth:
// they print the cached artifact's path (instantly when cached, building it otherwise).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

export type Component = 'collector' | 'kafka' | 'prometheus' | 'jaeger' | 'profiler' | 'collector-profiles';

/** The build script (and its arguments) that prints a component's path. */
const buildCommand: Record<Component, string[]> = {
  collector: ['collector.sh'],
  kafka: ['kafka.sh'],
  prometheus: ['prometheus.sh'],
  jaeger: ['jaeger.sh'],
  profiler: ['profiler.sh'],
  'collector-profiles': ['collector.sh', 'collector/builder-profiles.yaml'],
};

const located = new Map<Component, string>();

/** Path of a component's binary (or, for kafka, its libs directory). */
export function artifact(component: Component): string {
  let path = located.get(component);
  if (!path) {
    const [name, ...args] = buildCommand[component];
    const script = join(repoRoot, 'scripts', 'build', name);
    try {
      // stderr passes through: a cold build shows its progress.
      path = execFileSync('bash', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        .trim()
        .split('\n')
        .pop()!;
    } catch (err) {
      throw new Error(`could not build ${component} (${script}): ${(err as Error).message}`);
    }
    if (!existsSync(path)) throw new Error(`${script} printed ${path}, which does not exist`);
    located.set(component, path);
  }
  return path;
}

/** A KEY=value file (as docker compose's env_file reads it) relative to the repo, as a map. */
export function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(repoRoot, path), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The versions file shared with docker compose. */
export function versions(): Record<string, string> {
  return readEnvFile('.env');
}

/** A fresh directory for one component's files (config, data, log) in this test run. */
export function runDir(name: string): string {
  const base = join(tmpdir(), 'otel-lab-runs');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${name.replace(/[^a-z0-9-]/gi, '_')}-`));
}

let cache: string | undefined;
/** The lab's build cache, as scripts/build/lib.sh defines it (the one rule; asked, not repeated). */
export function cacheDir(): string {
  cache ??= execFileSync('bash', ['-c', '. "$1" && printf %s "$CACHE"', 'cache-dir', join(repoRoot, 'scripts/build/lib.sh')], {
    encoding: 'utf8',
  });
  return cache;
}
