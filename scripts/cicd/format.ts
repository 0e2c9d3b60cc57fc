// The report as text tables, for the terminal (npm run lab:cicd).
import type { CicdReport } from './report.js';

const short = (rev: string | undefined) => (rev ? rev.slice(0, 8) : '—');
const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);

/** A left-aligned text table with a header rule. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatReport(r: CicdReport): string {
  const out: string[] = [];
  out.push(`== pipeline runs in Jaeger (service ${r.options.services.join(', ')}, since ${new Date(r.options.sinceMs).toISOString()}): ${r.runs.length}`);
  out.push(
    table(
      ['started', 'pipeline', 'revision', 'branch', 'result', 'duration', 'tasks', 'tests', 'spans'],
      r.runs.map((x) => [new Date(x.startMs).toISOString().slice(11, 19), x.pipeline, short(x.revision), x.branch || '—', x.failed ? 'failure' : 'success', ms(x.durationMs), String(x.tasks.length), String(x.tests.length), String(x.spans)]),
    ),
  );
  const last = r.runs.at(-1);
  if (last) {
    const depth1 = last.tasks.filter((t) => t.depth === 1);
    const deeper = last.tasks.filter((t) => t.depth > 1);
    const files = deeper.filter((t) => t.type === 'test');
    out.push('', `== the latest run's trace (${last.traceId}), level by level`);
    out.push(`  1 pipeline span; ${depth1.length} tasks below it (${depth1.map((t) => `${t.name} ${ms(t.durationMs)}`).join(', ')})`);
    if (deeper.length) out.push(`  below those: ${deeper.length - files.length} build components, ${files.length} test files; ${last.tests.length} tests below the files`);
    const slowFiles = [...(files.length ? files : depth1.filter((t) => t.type === 'test'))].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
    if (slowFiles.length) out.push(`  slowest test files: ${slowFiles.map((t) => `${t.name} ${ms(t.durationMs)}`).join(', ')}`);
  }
  out.push('', '== slowest tasks (latest run of each)');
  out.push(table(['task', 'duration', 'revision'], r.slowestTasks.map((t) => [t.name, ms(t.durationMs), short(t.revision)])));
  out.push('', '== slowest tests (latest run of each)');
  out.push(table(['test', 'file', 'duration', 'revision'], r.slowestTests.map((t) => [t.name, t.suite ?? '', ms(t.durationMs), short(t.revision)])));
  out.push('', `== slow tests (≥ ${r.options.slowMs} ms in their latest run) and the revision that made them slow`);
  out.push(
    table(
      ['test', 'file', 'now', 'slow since', 'fast before'],
      r.slow.map((s) => [s.name, s.suite ?? '', ms(s.durationMs), short(s.since), s.fastBefore ? `${short(s.fastBefore)} (${ms(s.fastMs ?? 0)})` : '— (slow in every run seen)']),
    ),
  );
  out.push('', `== slow tasks (≥ ${ms(r.options.slowTaskMs)} in their latest run) and the revision that made them slow`);
  out.push(
    table(
      ['task', 'now', 'slow since', 'fast before'],
      r.slowTasks.map((s) => [s.name, ms(s.durationMs), short(s.since), s.fastBefore ? `${short(s.fastBefore)} (${ms(s.fastMs ?? 0)})` : '— (slow in every run seen)']),
    ),
  );
  out.push('', '== flaky (failed then passed on a retry, or passed and failed on one revision)');
  out.push(table(['what', 'name', 'file', 'how', 'first flaked at', 'revisions'], r.flaky.map((f) => [f.kind, f.name, f.suite ?? '', f.how.join('+'), short(f.since), f.revisions.map(short).join(' ')])));
  if (r.metrics) {
    const m = r.metrics;
    out.push('', '== from Prometheus (cicd.pipeline.run.duration, cicd.pipeline.run.errors, lab.cicd.test.results)');
    out.push(
      table(
        ['pipeline', 'runs by result', 'mean duration', 'errors'],
        Object.keys({ ...m.runs, ...m.meanDurationS }).map((p) => [p, Object.entries(m.runs[p] ?? {}).map(([k, v]) => `${k} ${v}`).join(', '), `${(m.meanDurationS[p] ?? 0).toFixed(2)} s`, String(m.errors[p] ?? 0)]),
      ),
    );
    out.push(`  test results: ${Object.entries(m.testResults).map(([k, v]) => `${k} ${v}`).join(', ') || '(none)'}`);
    out.push(`  mean run duration by revision: ${Object.entries(m.durationByRevision).map(([k, v]) => `${short(k)} ${v.toFixed(2)} s`).join(', ') || '(none)'}`);
  }
  return out.join('\n');
}
