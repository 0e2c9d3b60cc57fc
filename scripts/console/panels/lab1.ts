// Lab 1, "When Prometheus met OpenTelemetry": the scrape-vs-OTLP table live, from the very rows
// `lab:metrics` prints (scripts/metrics/report.ts), with the reason each missing series is missing.
import { LAB_PATHS } from '../../metrics/paths.js';
import { scrapeVsOtlp, showLabel, type Cell } from '../../metrics/report.js';
import { definePanel } from '../panel.js';
import type { Block, CellValue } from '../view.js';

const cellValue = (c: Cell): CellValue => {
  if (c.state === 'absent') return { text: '—', title: 'not on this path, by design' };
  if (c.state === 'missing') return { text: 'missing', tone: 'bad', title: c.why };
  return {
    text: c.series
      .map((s) => `${s.name ? `${s.name} ` : ''}${s.labels.length ? `{${s.labels.map(([k, v]) => showLabel(k, v)).join(', ')}${s.more ? `, +${s.more}` : ''}} ` : ''}${s.value}`)
      .join('\n'),
    mono: true,
  };
};

export default definePanel({
  id: 'lab1',
  title: 'Lab 1: scrape vs OTLP',
  order: 20,
  claim: '"Send OTLP or let Prometheus scrape: same metrics." Same counts, yes; but job, instance, labels and le differ by path, and delta sums do not arrive at all without deltatocumulative.',
  uses: () => ['Prometheus'],
  async render(ctx) {
    if (!ctx.prometheusUrl) return { state: 'empty', blocks: [{ type: 'empty', text: 'No Prometheus is configured for this console (--prometheus URL).' }] };
    const rows = await scrapeVsOtlp(ctx.prometheusUrl);
    if (rows.every((r) => Object.values(r.cells).every((c) => c.state !== 'series'))) {
      return {
        state: 'empty',
        blocks: [{ type: 'empty', text: 'Prometheus holds no series of the lab yet: send some orders (the native lab sends 2/s unless --no-traffic), or start Lab 1.', command: 'npm run lab:metrics -- --native' }],
      };
    }
    const answered = rows[0];
    const bars = LAB_PATHS.flatMap((p) => {
      const c = answered.cells[p.id];
      return c.state === 'series' ? [{ label: p.id, value: c.series.reduce((n, s) => n + s.value, 0) }] : [];
    });
    const missing = rows.flatMap((r) =>
      LAB_PATHS.flatMap((p) => {
        const c = r.cells[p.id];
        return c.state === 'missing' ? [[r.measurement.title, p.id, { text: c.why, tone: 'warn' as const }] as CellValue[]] : [];
      }),
    );
    const blocks: Block[] = [
      { type: 'bars', caption: `${answered.measurement.title}, every status: the same count on every path, once each has caught up (scrape every 2 s, OTLP every 5 s)`, data: bars, xLabel: 'requests' },
      {
        type: 'table',
        caption: 'Each measurement on each path (the table `npm run lab:metrics` prints)',
        columns: ['measurement', ...LAB_PATHS.map((p) => p.id)],
        rows: rows.map((r) => [
          { text: `${r.measurement.title}\n${r.measurement.metric}${r.common.length ? `\n${r.common.map(([k, v]) => showLabel(k, v)).join(', ')}` : ''}` },
          ...LAB_PATHS.map((p) => cellValue(r.cells[p.id])),
        ]),
      },
    ];
    if (missing.length) blocks.push({ type: 'table', caption: 'Missing series, and why', columns: ['measurement', 'path', 'why'], rows: missing });
    return blocks;
  },
});
