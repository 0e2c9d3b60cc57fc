// What the benchmarks share: one round of HTTP load (autocannon), medians, CPU and memory of
// the processes under test, and a line saying how busy the machine was. Figures from a shared
// machine are noisy: the benchmarks interleave their modes round after round and report each
// mode's median round, and ratios from the same run, never absolute figures alone.
import autocannon from 'autocannon';
import { cpus, loadavg } from 'node:os';
import { processUsage } from '../runtime/process.js';

export interface LoadResult {
  /** Answers with a 2xx status per second. */
  perSecond: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  requests: number;
  seconds: number;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
}

/** One round of closed-loop load: `connections` keep-alive clients, each sending again when answered. */
export async function loadRound(o: LoadOptions): Promise<LoadResult> {
  const r = await autocannon({
    url: o.url,
    method: o.method ?? 'GET',
    headers: o.headers,
    body: o.body,
    connections: o.connections,
    duration: o.seconds,
  });
  const ok = r['2xx'];
  return {
    perSecond: Math.round(ok / r.duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: ok,
    seconds: r.duration,
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU seconds used by a set of processes while `during` runs (children not included). */
export async function cpuDuring<T>(pids: number[], during: () => Promise<T>): Promise<{ result: T; cpuSeconds: number[] }> {
  const before = pids.map((p) => processUsage(p)?.cpuSeconds ?? NaN);
  const result = await during();
  const after = pids.map((p) => processUsage(p)?.cpuSeconds ?? NaN);
  return { result, cpuSeconds: after.map((a, i) => a - before[i]) };
}

/** "2 cores, load average 3.10 2.50 1.90": to print next to every figure. */
export function machineLine(): string {
  const [one, five, fifteen] = loadavg();
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), load average ${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)}`;
}

export const pct = (part: number, whole: number): string => (whole > 0 && Number.isFinite(part) ? `${Math.round((part / whole) * 100)} %` : '-');

/** A plain text table: header row, then rows; numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 || !/^[-\d.,]+( %| ms| µs)?$/.test(c) ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Bounded integer/number flags: a clear message instead of a silent NaN. */
export function numberFlag(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max} (got ${value})`);
  return n;
}
