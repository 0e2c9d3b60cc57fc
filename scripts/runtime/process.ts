// Child processes of a test run: each one's output goes to its own log file, every one is
// stopped at the end (even when the test fails), and one that dies early is reported by name
// with the tail of its log instead of surfacing later as a vague timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Set once the process has exited; `expected` is true when we stopped (or killed) it ourselves. */
  exit?: { code: number | null; signal: string | null; expected: boolean };
  /** SIGTERM (the process shuts down cleanly), SIGKILL after 8 s. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash, nothing flushed (Lab 2's fault scenarios). */
  kill(): Promise<void>;
  /** SIGSTOP: frozen, its sockets open but nothing read or answered (a network stall). */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
  logTail(lines?: number): string;
}

const running = new Set<ManagedProcess>();
/** How long stop() waits for a stopped process's last output before closing its log. */
const OUTPUT_GRACE_MS = 2_000;

export function startProcess(opts: {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}): ManagedProcess {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  // detached: own process group, so stop() also reaches grandchildren (java, shells).
  const child: ChildProcess = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  // 'exit' can come before the last output is read; the log is ended only once stdio closed
  // (writing to an ended stream would throw ERR_STREAM_WRITE_AFTER_END).
  const outputClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stopping = false;
  const closeLog = async () => {
    // A grandchild holding the pipes open must not hold up the stop: it gets a short grace.
    await Promise.race([outputClosed, new Promise((r) => setTimeout(r, OUTPUT_GRACE_MS))]);
    child.stdout?.unpipe(log);
    child.stderr?.unpipe(log);
    await new Promise<void>((r) => log.end(r));
  };
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal, expected: stopping };
      running.delete(proc);
      resolve();
    });
    child.once('error', (err) => {
      log.write(`\n[otel-lab] could not start ${opts.command}: ${err.message}\n`);
      proc.exit = { code: null, signal: null, expected: false };
      running.delete(proc);
      resolve();
    });
  });

  const proc: ManagedProcess = {
    name: opts.name,
    logFile: opts.logFile,
    pid: child.pid ?? -1,
    async stop() {
      if (proc.exit) return;
      stopping = true;
      // A paused process cannot act on SIGTERM: wake it first.
      signalGroup(child, 'SIGCONT');
      signalGroup(child, 'SIGTERM');
      // Collectors flush on SIGTERM; a few seconds is plenty, then no mercy.
      const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), 8000);
      await exited;
      clearTimeout(killer);
      await closeLog();
    },
    async kill() {
      if (proc.exit) return;
      stopping = true;
      signalGroup(child, 'SIGKILL');
      await exited;
      await closeLog();
    },
    pause: async () => signalGroup(child, 'SIGSTOP'),
    resume: async () => signalGroup(child, 'SIGCONT'),
    logTail(lines = 30) {
      try {
        return readFileSync(opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
  running.add(proc);
  return proc;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Throws, naming the component and showing its log, if any managed process died on its own. */
export function assertNoneDied(): void {
  for (const p of diedUnexpectedly) {
    diedUnexpectedly.delete(p);
    throw new ComponentDiedError(p);
  }
}

export class ComponentDiedError extends Error {
  constructor(p: ManagedProcess) {
    super(
      `${p.name} exited unexpectedly (code ${p.exit?.code}, signal ${p.exit?.signal}); ` +
        `last lines of ${p.logFile}:\n${p.logTail()}`,
    );
  }
}

const diedUnexpectedly = new Set<ManagedProcess>();
const watched = new Set<ManagedProcess>();

/** Watch a process so that assertNoneDied() reports it if it exits without being stopped. */
export function watch(p: ManagedProcess): void {
  watched.add(p);
  const timer = setInterval(() => {
    if (!p.exit) return;
    clearInterval(timer);
    watched.delete(p);
    if (!p.exit.expected) diedUnexpectedly.add(p);
  }, 100);
  timer.unref();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

// Last line of defence: never leave orphans behind, even if a test file crashes.
process.once('exit', () => {
  for (const p of running) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export function runningProcesses(): ManagedProcess[] {
  return [...running];
}

export interface ProcessUsage {
  /** CPU time (user + system) since the process started, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux: the unit of /proc/<pid>/stat's utime and stime

/** CPU time and resident memory of a running process, from /proc (Linux); undefined once it is gone. */
export function processUsage(pid: number): ProcessUsage | undefined {
  try {
    // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds: ticks / CLOCK_TICKS, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}
