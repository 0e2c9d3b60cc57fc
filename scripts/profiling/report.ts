// Lab 5's report: from the OTLP profiles the collector received (its file exporter's output) to
// what a person reads: per service, the top stacks in folded format, the hottest functions
// (self samples: where the CPU actually was), and a flame graph drawn by d3-flame-graph.
// profilingReport() returns data (for the workshop console); formatReport() prints it;
// writeReport() writes the folded stacks, the flame graphs (HTML + SVG) and the data as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flameGraphPage, renderFlameGraphs, type RenderedChart } from './flamegraph.js';
import { flameTree, folded, frameLabel, samplesOf, type FlameNode, type ProfileSample } from './profiles.js';

export interface HotFunction {
  /** Frame label: `function (dir/file)` for JS, the symbol or binary+offset for native code. */
  name: string;
  type: string;
  /** Samples with this function on top of the stack (on the CPU itself). */
  self: number;
  /** Samples with this function anywhere on the stack (itself or what it called). */
  total: number;
}

export interface ServiceProfile {
  service: string;
  /**
   * The processes with that OTEL_SERVICE_NAME and their samples: one per running instance of the
   * service (on a shared machine, other runs' instances too, unless `pids` narrows it).
   */
  processes: { pid: number; executable: string; samples: number }[];
  samples: number;
  /** The most sampled stacks, folded (root;...;leaf), with their sample counts. */
  topStacks: { stack: string; count: number }[];
  hotFunctions: HotFunction[];
  /** JavaScript frames seen, and how many had a line number other than 0 or 1. */
  jsFrames: { total: number; withLine: number };
  tree: FlameNode;
  /** The flame graph as d3-flame-graph drew it, and the frame names it drew. */
  chart: RenderedChart;
}

export interface ProfilingReport {
  requests: number;
  samples: number;
  /** Samples of processes that are none of the services (or processes) asked for: the rest of the machine. */
  otherSamples: number;
  services: ServiceProfile[];
  /** The interactive page, one chart per service. */
  page: string;
}

export interface ReportOptions {
  /** Only these services (by OTEL_SERVICE_NAME); default: every process that has one. */
  services?: string[];
  /**
   * Only these processes. The profiler sees the whole machine: another run of the shop on it
   * (a test, another checkout) has services of the same names.
   */
  pids?: number[];
  top?: number;
}

export async function profilingReport(requests: any[], opts: ReportOptions = {}): Promise<ProfilingReport> {
  const top = opts.top ?? 5;
  const all = requests.flatMap(samplesOf);
  const ours = (s: ProfileSample) => !opts.pids || opts.pids.includes(s.pid);
  const named = (s: ProfileSample) =>
    ours(s) && (opts.services ? opts.services.includes(s.service) : s.resource['process.environment_variable.OTEL_SERVICE_NAME'] !== undefined);
  const byService = new Map<string, ProfileSample[]>();
  let otherSamples = 0;
  for (const s of all) {
    if (!named(s)) {
      otherSamples += s.count;
      continue;
    }
    let list = byService.get(s.service);
    if (!list) byService.set(s.service, (list = []));
    list.push(s);
  }
  const services = [...byService.keys()].sort();
  const trees = services.map((service) => flameTree(byService.get(service)!, service));
  const title = 'otel-lab: CPU flame graphs per service (eBPF profiler, OTLP profiles)';
  const page = flameGraphPage(title, services.map((service, i) => ({ title: service, tree: trees[i] })));
  const charts = services.length ? await renderFlameGraphs(page, services) : [];

  const profiles = services.map((service, i): ServiceProfile => {
    const samples = byService.get(service)!;
    const stacks = [...folded(samples)].sort((a, b) => b[1] - a[1]);
    const fns = new Map<string, HotFunction>();
    let jsTotal = 0;
    let jsWithLine = 0;
    for (const s of samples) {
      const seen = new Set<string>();
      s.frames.forEach((f, depth) => {
        const name = frameLabel(f);
        let fn = fns.get(name);
        if (!fn) fns.set(name, (fn = { name, type: f.type, self: 0, total: 0 }));
        if (!seen.has(name)) fn.total += s.count;
        seen.add(name);
        if (depth === s.frames.length - 1) fn.self += s.count;
        if (f.type === 'v8js') {
          jsTotal += 1;
          if (f.line > 1) jsWithLine += 1;
        }
      });
    }
    const processes = new Map<number, { pid: number; executable: string; samples: number }>();
    for (const s of samples) {
      let p = processes.get(s.pid);
      if (!p) processes.set(s.pid, (p = { pid: s.pid, executable: String(s.resource['process.executable.name'] ?? '?'), samples: 0 }));
      p.samples += s.count;
    }
    return {
      service,
      processes: [...processes.values()].sort((a, b) => b.samples - a.samples),
      samples: trees[i].value,
      topStacks: stacks.slice(0, top).map(([stack, count]) => ({ stack, count })),
      hotFunctions: [...fns.values()].sort((a, b) => b.self - a.self || b.total - a.total).slice(0, top),
      jsFrames: { total: jsTotal, withLine: jsWithLine },
      tree: trees[i],
      chart: charts[i],
    };
  });
  return { requests: requests.length, samples: all.reduce((a, s) => a + s.count, 0), otherSamples, services: profiles, page };
}

const pct = (n: number, of: number) => `${of ? Math.round((n / of) * 100) : 0} %`;

/** The report as text: per service, its hottest functions and top stacks (leaf-most frames shown). */
export function formatReport(r: ProfilingReport, frames = 6): string {
  const out = [
    `== OTLP profiles received: ${r.requests} export requests, ${r.samples} samples ` +
      `(${r.samples - r.otherSamples} from the lab's services, ${r.otherSamples} from the rest of the machine)`,
  ];
  if (!r.services.length) out.push('no samples from the lab\'s services yet (is the profiler running, and are they busy?)');
  for (const s of r.services) {
    const procs = s.processes.map((p) => `${p.executable} pid ${p.pid}: ${p.samples}`).join(', ');
    out.push('', `-- ${s.service}: ${s.samples} samples (${procs})`);
    out.push('hottest functions (self = on the CPU itself, total = on the stack):');
    for (const f of s.hotFunctions) {
      out.push(`  ${pct(f.self, s.samples).padStart(5)} self ${pct(f.total, s.samples).padStart(5)} total  ${f.name}  [${f.type}]`);
    }
    out.push(`top stacks (folded, root;...;leaf, the last ${frames} frames shown):`);
    for (const t of s.topStacks) {
      const parts = t.stack.split(';');
      const shown = parts.length > frames ? `…;${parts.slice(-frames).join(';')}` : t.stack;
      out.push(`  ${String(t.count).padStart(5)}  ${shown}`);
    }
    out.push(`JavaScript frames with a line number > 1: ${s.jsFrames.withLine} of ${s.jsFrames.total} (see docs/profiling.md, "line numbers")`);
  }
  return out.join('\n');
}

/** Writes the report's files into `dir`; returns their paths. */
export function writeReport(r: ProfilingReport, dir: string): { page: string; svgs: string[]; folded: string[]; json: string } {
  mkdirSync(dir, { recursive: true });
  const page = join(dir, 'flamegraphs.html');
  writeFileSync(page, r.page);
  const svgs: string[] = [];
  const foldedFiles: string[] = [];
  for (const s of r.services) {
    const safe = s.service.replace(/[^a-z0-9_-]+/gi, '_');
    const svg = join(dir, `flamegraph-${safe}.svg`);
    writeFileSync(svg, s.chart.svg);
    svgs.push(svg);
    // Every stack, not just the top ones: flamegraph.pl, speedscope and others read this format.
    const f = join(dir, `${safe}.folded`);
    const lines: string[] = [];
    const walk = (n: FlameNode, path: string[]) => {
      const childSum = n.children.reduce((a, c) => a + c.value, 0);
      if (n.value > childSum && path.length) lines.push(`${path.join(';')} ${n.value - childSum}`);
      for (const c of n.children) walk(c, [...path, c.name]);
    };
    walk(s.tree, []);
    writeFileSync(f, lines.join('\n') + '\n');
    foldedFiles.push(f);
  }
  const json = join(dir, 'report.json');
  writeFileSync(json, JSON.stringify({ ...r, page: undefined, services: r.services.map((s) => ({ ...s, chart: { title: s.chart.title, frames: s.chart.frames.length } })) }, null, 1));
  return { page, svgs, folded: foldedFiles, json };
}
