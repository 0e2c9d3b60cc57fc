// Lab 1's side-by-side report as data: for each measurement (paths.ts), what every path stored in
// Prometheus — the series, the labels that tell the paths apart, the value — and, where a
// series is expected but absent, why. `lab:metrics` prints it as Markdown (main.ts); the
// workshop console shows the same rows (scripts/console/panels/lab1.ts).
import { LAB_PATHS, MEASUREMENTS, measurementSelector, pathsOf, type LabPath, type Measurement } from './paths.js';
import { instantQuery } from '../runtime/prometheus.js';

/** One series in a cell: its name when it differs from the measurement's, its own labels, its value. */
export interface CellSeries {
  name?: string;
  /** Labels not shared by the whole row, in the order that tells the paths apart; truncated. */
  labels: [string, string][];
  more: number;
  value: number;
}

export type Cell =
  | { state: 'series'; series: CellSeries[] }
  /** Expected on this path, but Prometheus holds nothing: `why` is the path's known reason. */
  | { state: 'missing'; why: string }
  /** Not on this path, by design. */
  | { state: 'absent' };

export interface ReportRow {
  measurement: Measurement;
  /** Labels with the same value on every series of the row, said once. */
  common: [string, string][];
  cells: Record<LabPath, Cell>;
}

const MAX_LABELS = 8;
// What tells the paths apart comes first in a cell, so truncation only ever hides the rest.
const FIRST = ['job', 'instance', 'le', 'otel_scope_name', 'otel_scope_version'];
const rank = (label: string) => (FIRST.includes(label) ? FIRST.indexOf(label) : FIRST.length);
const OWN = (k: string) => k !== 'lab_path' && k !== '__name__';

/** Why a series expected on a path can be absent (the paths' design, docs/metrics.md). */
export function missingReason(path: LabPath): string {
  if (path === '5-delta-raw') return "Prometheus's OTLP receiver refuses delta sums and histograms (HTTP 500 to the collector)";
  if (path === '5-delta-raw-rw') return 'remote write has no delta: the collector drops the sums and histograms, only its counter says so';
  return `nothing arrived yet on ${path} (${LAB_PATHS.find((p) => p.id === path)!.how}): is that path's collector running, and has traffic flowed?`;
}

/** The whole table, read live from a Prometheus (one instant query per measurement and path). */
export async function scrapeVsOtlp(prometheusUrl: string): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  for (const m of MEASUREMENTS) {
    const found = await Promise.all(LAB_PATHS.map((p) => instantQuery(prometheusUrl, measurementSelector(m, p.id))));
    const all = found.flat();
    const common: [string, string][] =
      all.length === 0 ? [] : Object.entries(all[0].labels).filter(([k, v]) => OWN(k) && all.every((s) => s.labels[k] === v));
    const isCommon = new Set(common.map(([k]) => k));
    const expected = pathsOf(m.service);
    const cells = {} as Record<LabPath, Cell>;
    LAB_PATHS.forEach((p, i) => {
      const series = found[i];
      if (series.length === 0) {
        // up and target_info exist only where a scrape or a resource makes them: absence is by design.
        const missing = expected.includes(p.id) && !['up', 'target_info'].includes(m.metric);
        cells[p.id] = missing ? { state: 'missing', why: missingReason(p.id) } : { state: 'absent' };
        return;
      }
      cells[p.id] = {
        state: 'series',
        series: series
          .map((s) => {
            const own = Object.entries(s.labels)
              .filter(([k]) => OWN(k) && !isCommon.has(k))
              .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
            return {
              ...(s.labels.__name__ === m.metric ? {} : { name: s.labels.__name__ }),
              labels: own.slice(0, MAX_LABELS),
              more: Math.max(0, own.length - MAX_LABELS),
              value: s.value,
            };
          })
          .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels))),
      };
    });
    rows.push({ measurement: m, common, cells });
  }
  return rows;
}

/** Instance ids are 36-character UUIDs on the OTLP paths: shortened, they still tell the paths apart. */
export function showLabel(name: string, value: string): string {
  let v = /^[0-9a-f-]{36}$/.test(value) ? `${value.slice(0, 8)}…` : value;
  if (v.length > 40) v = `${v.slice(0, 39)}…`;
  return `${name}="${v}"`;
}

/** The report as the Markdown table `lab:metrics` prints. */
export function renderMarkdown(rows: ReportRow[]): string {
  const md = (s: string) => s.replaceAll('|', '\\|');
  const out: string[] = [];
  out.push(`| measurement | ${LAB_PATHS.map((p) => p.id).join(' | ')} |`);
  out.push(`|---|${LAB_PATHS.map(() => '---').join('|')}|`);
  for (const { measurement: m, common, cells } of rows) {
    const title = `**${m.title}**<br>\`${m.metric}\`${common.length ? `<br>${common.map(([k, v]) => md(showLabel(k, v))).join(', ')}` : ''}`;
    const cell = (c: Cell) => {
      if (c.state === 'missing') return '**missing**';
      if (c.state === 'absent') return '—';
      return c.series
        .map((s) => {
          const shown = s.labels.map(([k, v]) => md(showLabel(k, v)));
          if (s.more) shown.push(`+${s.more} more`);
          return `${s.name ? `\`${s.name}\` ` : ''}${shown.length ? `{${shown.join(', ')}} ` : ''}**${s.value}**`;
        })
        .sort()
        .join('<br>');
    };
    out.push(`| ${title} | ${LAB_PATHS.map((p) => cell(cells[p.id])).join(' | ')} |`);
  }
  out.push('');
  out.push('Paths: ' + LAB_PATHS.map((p) => `\`${p.id}\` ${p.how}`).join('; ') + '.');
  out.push('— : not on this path (by design); **missing**: expected here but absent.');
  return out.join('\n');
}
