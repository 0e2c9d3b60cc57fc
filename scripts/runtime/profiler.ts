// Lab 5: the OpenTelemetry eBPF profiler (scripts/build/profiler.sh) and the collector that
// receives its OTLP profiles (collector/profiles.yaml on the otelcol-profiles distribution).
//
// The profiler samples every process on the machine from the kernel (no agent in the apps) and
// needs root and a Linux kernel with eBPF: profilerSupport() says why it cannot run, in one
// sentence, before anything starts. It also needs tracefs; where /sys/kernel/tracing is not
// mounted, the profiler runs in a private mount namespace of its own (unshare --mount
// --propagation private) that mounts it, so the host's mounts are never touched.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { readJsonLines } from './capture.js';
import { startCollector, type Collector } from './collector.js';
import { artifact, readEnvFile, runDir } from './components.js';
import { startProcess, watch, type ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

/** The flag without which the collector refuses a `profiles` pipeline (profiles are still in development). */
export const PROFILES_FEATURE_GATE = '--feature-gates=service.profilesSupport';
/** The opt-out: set to 1 to let the profiling tests pass where the profiler cannot run. */
export const SKIP_VARIABLE = 'LAB_PROFILING_SKIP_OK';

const TRACEFS = '/sys/kernel/tracing';

/** Whether tracefs is mounted where the profiler looks for it (as this process sees the mounts). */
export function tracefsMounted(): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((l) => {
        const [, dir, type] = l.split(' ');
        return type === 'tracefs' && (dir === TRACEFS || dir === '/sys/kernel/debug/tracing');
      });
  } catch {
    return false;
  }
}

/**
 * Why the eBPF profiler cannot run on this machine, or undefined when it can (as far as can be
 * told without starting it: the profiler's own start then says the rest, e.g. a kernel refusing
 * its programs).
 */
export function profilerSupport(): string | undefined {
  if (process.platform !== 'linux') return `the eBPF profiler needs a Linux kernel with eBPF; this is ${process.platform}`;
  const [major, minor] = release().split('.').map(Number);
  if (major < 5 || (major === 5 && minor < 4)) return `the eBPF profiler needs Linux >= 5.4; this kernel is ${release()}`;
  if (process.getuid?.() !== 0) {
    return 'the eBPF profiler needs root (it loads eBPF programs and opens perf events for every CPU): run as root (sudo -E npm run lab:profiling)';
  }
  if (!existsSync('/sys/kernel')) return 'no /sys/kernel: the eBPF profiler needs sysfs (in a container: --privileged, --pid=host)';
  if (!tracefsMounted()) {
    for (const tool of ['/usr/bin/unshare', '/usr/bin/mount', '/bin/sh']) {
      if (!existsSync(tool) && !existsSync(tool.replace('/usr', ''))) {
        return `tracefs is not mounted and ${tool} (util-linux) is missing to mount it in a private mount namespace`;
      }
    }
  }
  return undefined;
}

export interface ProfilesCollector extends Collector {
  /** Where the file exporter writes the profiles (profiles.jsonl). */
  dir: string;
  file: string;
  /** The OTLP profiles export requests received so far (OTLP JSON, one a line). */
  requests(): any[];
}

/** The profiles role (collector/profiles.yaml) on the profiler's collector release, natively. */
export async function startProfilesCollector(name = 'profiles'): Promise<ProfilesCollector> {
  const dir = runDir(name);
  const collector = await startCollector({
    config: 'collector/profiles.yaml',
    name,
    binary: artifact('collector-profiles'),
    flags: [PROFILES_FEATURE_GATE],
    env: { CAPTURE_DIR: dir },
    native: true,
  });
  const file = join(dir, 'profiles.jsonl');
  return { ...collector, dir, file, requests: () => readJsonLines(file) };
}

/** The profiler's settings (OTEL_PROFILING_AGENT_* variables), shared with compose. */
export const PROFILER_SETTINGS = 'config/profiler/profiler.env';

export interface ProfilerOptions {
  /** The profiles collector's OTLP/gRPC host:port. */
  collector: string;
  /** Overrides the settings file's sampling frequency per CPU (20 Hz). */
  samplesPerSecond?: number;
  /** Overrides how often it sends what it sampled (the settings file's 2 s). */
  reporterInterval?: string;
  /** More flags for the profiler (see `ebpf-profiler -h`); they win over the settings file. */
  flags?: string[];
  name?: string;
}

export interface Profiler {
  process: ManagedProcess;
  /** The PID of the profiler itself (for its CPU and memory). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the eBPF profiler, sending to a profiles collector, and resolves once its eBPF programs
 * are loaded and it is sampling. Rejects first, with the reason, where it cannot run here.
 */
export async function startProfiler(opts: ProfilerOptions): Promise<Profiler> {
  const unsupported = profilerSupport();
  if (unsupported) throw new Error(unsupported);
  const binary = artifact('profiler');
  const args = [
    `-collection-agent=${opts.collector}`,
    ...(opts.samplesPerSecond ? [`-samples-per-second=${opts.samplesPerSecond}`] : []),
    ...(opts.reporterInterval ? [`-reporter-interval=${opts.reporterInterval}`] : []),
    ...(opts.flags ?? []),
  ];
  // unshare execs the profiler in a new mount namespace (no fork): the process stays the one we
  // started, and the tracefs mount lives and dies with it.
  const [command, fullArgs] = tracefsMounted()
    ? [binary, args]
    : [
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t tracefs nodev ${TRACEFS} && exec "$@"`, 'profiler', binary, ...args],
      ];
  const name = opts.name ?? 'ebpf-profiler';
  const proc = startProcess({ name, command, args: fullArgs, logFile: join(runDir(name), 'profiler.log'), env: readEnvFile(PROFILER_SETTINGS) });
  watch(proc);
  // "Attached sched monitor" is the line upstream's own system tests wait for: the eBPF programs
  // are loaded and attached to the perf events (loading takes ~2 s of CPU).
  await waitFor(() => logText(proc).includes('Attached sched monitor'), {
    what: `${name} to load its eBPF programs and start sampling (log: ${proc.logFile})`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  return { process: proc, pid: proc.pid, stop: () => proc.stop() };
}

function logText(proc: ManagedProcess): string {
  try {
    return readFileSync(proc.logFile, 'utf8');
  } catch {
    return '';
  }
}

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
export function processUsage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces), counted from field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMiB: rssKiB / 1024 };
}
