// Lab 6's report as data, and as a person reads it: the cardinality table (customers -> head
// series -> memory per configuration), the growth law fitted from the numbers, and a terminal
// chart (asciichart) of head series against customers.
import { plot } from 'asciichart';
import { CONFIGS, fitLine, REQUEST_COUNTER, type Config, type ExplosionPoint } from './explosion.js';

export interface GrowthLaw {
  config: Config;
  /** Head series per additional customer (least squares over the configuration's points). */
  seriesPerUser: number;
  /** The line's intercept: head series once the first orders made every route's series. */
  baseSeries: number;
  /** Prometheus heap in use per additional series, bytes (only meaningful where series grow). */
  prometheusHeapPerSeries?: number;
}

export function growthLaws(points: ExplosionPoint[]): GrowthLaw[] {
  const laws: GrowthLaw[] = [];
  for (const config of CONFIGS) {
    // From the first customer on: the first order creates its routes' series once, in every
    // configuration (a step, not growth).
    const mine = points.filter((p) => p.config === config && p.users > 0);
    if (mine.length < 2) continue;
    const series = fitLine(mine.map((p) => ({ users: p.users, value: p.headSeries })));
    const law: GrowthLaw = { config, seriesPerUser: series.slope, baseSeries: series.intercept };
    const first = mine[0];
    const last = mine[mine.length - 1];
    const grown = last.headSeries - first.headSeries;
    // Below a few thousand series the heap's own swings (GC) drown the per-series cost.
    if (grown >= 2000) law.prometheusHeapPerSeries = (last.prometheusHeapBytes - first.prometheusHeapBytes) / grown;
    laws.push(law);
  }
  return laws;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);

export function formatExplosionTable(points: ExplosionPoint[]): string {
  const lines = [
    `| configuration | customers | head series | of which \`${REQUEST_COUNTER}\` | Prometheus RSS / heap (MiB) | agent RSS / heap (MiB) |`,
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const p of points) {
    lines.push(
      `| ${p.config} | ${p.users} | ${p.headSeries} | ${p.requestSeries} | ${mib(p.prometheusRssBytes)} / ${mib(p.prometheusHeapBytes)} | ${mib(p.agentRssBytes)} / ${mib(p.agentHeapBytes)} |`,
    );
  }
  return lines.join('\n');
}

export function formatGrowthLaws(laws: GrowthLaw[]): string {
  return laws
    .map((l) => {
      const heap = l.prometheusHeapPerSeries === undefined ? '' : `; Prometheus heap +${(l.prometheusHeapPerSeries / 1024).toFixed(1)} KiB per added series`;
      return `${l.config.padEnd(9)} head series ≈ ${l.baseSeries.toFixed(0)} + ${l.seriesPerUser.toFixed(2)} × customers${heap}`;
    })
    .join('\n');
}

/**
 * Head series against customers, one line per configuration (straight lines between the
 * measured points: asciichart plots evenly spaced samples, so each line is resampled at
 * `width` evenly spaced customer counts).
 */
export function explosionChart(points: ExplosionPoint[], width = 60, height = 12): string {
  const configs = CONFIGS.filter((c) => points.some((p) => p.config === c));
  const maxUsers = Math.max(...points.map((p) => p.users));
  if (!configs.length || maxUsers <= 0) return '(nothing to plot)';
  const at = (config: Config, users: number) => {
    const mine = points.filter((p) => p.config === config).sort((a, b) => a.users - b.users);
    const hi = mine.findIndex((p) => p.users >= users);
    if (hi <= 0) return (hi === 0 ? mine[0] : mine[mine.length - 1]).headSeries;
    const [a, b] = [mine[hi - 1], mine[hi]];
    return a.headSeries + ((b.headSeries - a.headSeries) * (users - a.users)) / (b.users - a.users);
  };
  const series = configs.map((c) => Array.from({ length: width }, (_, i) => at(c, (maxUsers * i) / (width - 1))));
  const chart = plot(series, { height, format: (x: number) => x.toFixed(0).padStart(7) });
  return [
    'head series (y) against customers (x: 0 … ' + maxUsers + ')',
    chart,
    `${' '.repeat(9)}0${' '.repeat(width - 1 - String(maxUsers).length)}${maxUsers} customers`,
    `lines: ${configs.map((c) => `${c} (ends at ${Math.round(at(c, maxUsers))})`).join(', ')}`,
  ].join('\n');
}
