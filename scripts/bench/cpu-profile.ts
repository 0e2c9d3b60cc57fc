// Reads a V8 CPU profile (`node --cpu-prof`): where the time went, as self time per function and
// per package, over a window of the run (the load, not the start-up), idle time left out.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  /** Share of the busy time in the window, 0..1. */
  share: number;
}

export interface ProfileSummary {
  /** Busy (non-idle) time in the window, ms. */
  busyMs: number;
  /** Share of the window the process was busy. */
  busyShare: number;
  functions: Frame[];
  packages: Frame[];
}

/** node_modules/<package>, the lab's own code, Node's core, or V8 itself (GC, native code). */
export function packageOf(url: string, functionName: string): string {
  // The innermost node_modules: a dependency nested in another package is its own package.
  const m = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].at(-1);
  if (m) return m[1];
  if (/\/services\//.test(url)) return 'the lab (services/)';
  if (url.startsWith('node:')) return 'node core (js)';
  if (functionName === '(garbage collector)') return 'v8: garbage collector';
  return 'native (sockets, parsing, v8)';
}

/**
 * Summarises a profile; with `window` ([from, to] in µs of the monotonic clock, as
 * process.hrtime.bigint() / 1000n gives it), only the samples taken in it.
 */
export function summarizeProfile(file: string, window?: [number, number], top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  let t = p.startTime;
  const inWindow = (ts: number) => !window || (ts >= window[0] && ts <= window[1]);
  const selfUs = new Map<number, number>();
  let windowUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (!inWindow(t)) continue;
    windowUs += dt;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const cf = nodes.get(id)!.callFrame;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    busy += us;
    const where = cf.url ? `${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/services\//, 'services/')}:${cf.lineNumber + 1}` : 'native';
    const fn = `${cf.functionName || '(anonymous)'} (${where})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const pkg = packageOf(cf.url, cf.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const frames = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, share: busy ? us / busy : 0 }));
  return { busyMs: busy / 1000, busyShare: windowUs ? busy / windowUs : 0, functions: frames(byFunction), packages: frames(byPackage) };
}
