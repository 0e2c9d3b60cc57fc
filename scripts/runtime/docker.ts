// LAB_RUNTIME=docker: the Docker engine, the lab's images and the containers the components run
// in (testcontainers), from the same images docker compose runs and the same config files. Each
// component's file (collector.ts, kafka.ts, prometheus.ts) starts its own container variant.
//
// Containers share the host's network, so every address the harness hands out
// (127.0.0.1:<free port>) means the same thing inside and outside them, and the repo and the
// run directories are mounted at their own paths, so every config path works unchanged.
// The Ryuk reaper image cannot be pulled here: it is disabled, and cleanup is explicit: each
// container is tied to a ManagedProcess (`docker logs -f`, its log file) that useLab() stops,
// plus a last-resort `docker rm -f` when the test process exits.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StartedTestContainer } from 'testcontainers';
import { repoRoot, versions } from './components.js';
import { startProcess, watch, type ManagedProcess } from './process.js';

const execFileAsync = promisify(execFile);

/** True when the tests should start their components in Docker (LAB_RUNTIME=docker). */
export const dockerRuntime = () => process.env.LAB_RUNTIME === 'docker';

let engine: Promise<void> | undefined;
let images: Promise<void> | undefined;

/** Reads `export NAME=value` lines (what scripts/docker/*.sh print) into this process's env. */
function applyExports(text: string): void {
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) process.env[m[1]] = m[2];
}

async function runScript(what: string, script: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [join(repoRoot, 'scripts/docker', script), ...args], { maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${what} failed (scripts/docker/${script} ${args.join(' ')}):\n${(e.stderr || e.message).trim().split('\n').slice(-15).join('\n')}`);
  }
}

/**
 * A Docker engine and the compose CLI, once per test process: the user's engine if one
 * answers, else the project's own dockerd (scripts/docker/engine.sh, which says what to
 * install when it cannot start one).
 */
export function prepareEngine(): Promise<void> {
  engine ??= (async () => {
    applyExports(await runScript('starting a Docker engine', 'engine.sh', 'start'));
    // Must be set before testcontainers creates its client.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  })();
  return engine;
}

/**
 * The engine, the compose CLI and the lab's images: on the project's own engine no registry is
 * assumed, so the local stand-ins are built (scripts/docker/images.sh; seconds when cached) and
 * their names exported as the image variables (COLLECTOR_IMAGE=otel-lab-local/collector:...).
 * Cold, the compose CLI build and the images build run side by side.
 */
export function prepareDocker(): Promise<void> {
  images ??= (async () => {
    applyExports(await runScript('starting a Docker engine', 'engine.sh', 'engine'));
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const local = process.env.OTEL_LAB_ENGINE === 'project' || process.env.LAB_IMAGES === 'local';
    const [plugin, built] = await Promise.all([
      runScript('getting the docker compose CLI', 'engine.sh', 'plugin'),
      local ? runScript('building the local images', 'images.sh') : Promise.resolve(''),
    ]);
    applyExports(plugin);
    applyExports(built);
  })();
  return images;
}

/** The image for a variable of .env (COLLECTOR_IMAGE, ...), as overridden by the environment. */
export function image(variable: string): string {
  const value = process.env[variable] ?? versions()[variable];
  if (!value) throw new Error(`${variable} is not set in .env`);
  return value;
}

const started = new Map<string, StartedTestContainer>();

/** Label on every container this harness starts; its value is the test process's pid. */
export const HARNESS_LABEL = 'org.otel-lab.harness-pid';

// Last line of defence (a crashed test file): no container outlives the test process.
process.once('exit', () => {
  if (started.size === 0) return;
  try {
    execFileSync('docker', ['rm', '-f', ...started.keys()], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
});

interface ContainerSpec {
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  logFile: string;
  /** Run as this user (default: the image's own). */
  user?: string;
  /** Extra bind mounts [host, container, 'ro' | 'rw']. */
  mounts?: [string, string, 'ro' | 'rw'][];
}

/** The lab's directories at their own paths: configs in the repo, files of this test run. */
export function labMounts(): [string, string, 'ro' | 'rw'][] {
  const runs = join(tmpdir(), 'otel-lab-runs');
  mkdirSync(runs, { recursive: true });
  return [
    [repoRoot, repoRoot, 'ro'],
    [runs, runs, 'rw'],
  ];
}

/**
 * Starts a container on the host network and returns a ManagedProcess for it: the process is
 * `docker logs -f` writing the container's output to logFile, so the harness's log tails and
 * "died unexpectedly" checks work as for native components; stopping it stops the container.
 */
export async function startContainer(spec: ContainerSpec): Promise<ManagedProcess> {
  await prepareDocker();
  const { GenericContainer } = await import('testcontainers');
  let container = new GenericContainer(spec.image)
    .withLabels({ [HARNESS_LABEL]: String(process.pid) })
    .withNetworkMode('host')
    .withEnvironment(spec.env)
    .withCommand(spec.command)
    .withBindMounts([...labMounts(), ...(spec.mounts ?? [])].map(([source, target, mode]) => ({ source, target, mode })));
  if (spec.user) container = container.withUser(spec.user);
  let running: StartedTestContainer;
  try {
    running = await container.start();
  } catch (err) {
    throw new Error(`could not start ${spec.name} from image ${spec.image}: ${(err as Error).message}`);
  }
  const id = running.getId();
  started.set(id, running);

  const follower = startProcess({ name: spec.name, command: 'docker', args: ['logs', '-f', id], logFile: spec.logFile });
  const stopFollower = follower.stop.bind(follower);
  // The follower first (an expected exit), then the container: SIGTERM, 8 s, then SIGKILL.
  follower.stop = async () => {
    await stopFollower();
    if (!started.delete(id)) return;
    await running.stop({ timeout: 8_000 });
  };
  // The faults act on the container, not on the log follower.
  follower.kill = async () => {
    if (started.has(id)) await execFileAsync('docker', ['kill', id]).catch(() => undefined);
    await follower.stop();
  };
  follower.pause = async () => void (await execFileAsync('docker', ['pause', id]));
  follower.resume = async () => void (await execFileAsync('docker', ['unpause', id]));
  watch(follower);
  return follower;
}

/** The user the container runs as: this process's, so files it writes in run dirs are ours. */
export const hostUser = () => `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;

