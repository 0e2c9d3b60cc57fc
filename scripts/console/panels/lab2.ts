// Lab 2, "Strategic sampling": for the sampling topology this process runs, kept share per
// traffic class, completeness and split traces (scripts/sampling/report.ts, the code
// `lab:sampling` prints with), and the samplers' decisions over time from their own counters.
import { analyse, CATEGORIES } from '../../sampling/report.js';
import type { ConsoleContext } from '../context.js';
import { definePanel } from '../panel.js';
import type { Block } from '../view.js';

const history: { t: number; value: number; series: string }[] = [];
const HISTORY_POINTS = 2_000;

async function sample(ctx: ConsoleContext) {
  const t = Date.now();
  for (const s of ctx.sampling?.topology.samplers ?? []) {
    if (s.collector.process.exit) continue;
    const m = await s.metrics();
    history.push({ t, value: m.kept, series: `${s.id} kept` }, { t, value: m.dropped, series: `${s.id} dropped` });
  }
  if (history.length > HISTORY_POINTS) history.splice(0, history.length - HISTORY_POINTS);
}

export default definePanel({
  id: 'lab2',
  title: 'Lab 2: sampling',
  order: 30,
  claim: 'Head sampling is blind to errors; tail sampling keeps every error and slow trace whole, as long as every span of a trace reaches the same sampler.',
  uses: (ctx) => ctx.sampling?.topology.samplers.map((s) => s.collector.name) ?? [],
  watch(ctx) {
    if (!ctx.sampling) return () => {};
    const timer = setInterval(() => void sample(ctx).catch(() => undefined), 2_000);
    timer.unref();
    return () => clearInterval(timer);
  },
  async render(ctx) {
    const src = ctx.sampling;
    if (!src) {
      return {
        state: 'empty',
        blocks: [
          {
            type: 'empty',
            text: 'No sampling topology runs in this process. Run one with the console on, and open this tab there:',
            command: 'npm run lab:sampling -- --topology direct --console',
          },
        ],
      };
    }
    const ids = src.traceIds();
    const report = analyse(src.topology.capture.spans(), ids);
    const sent = CATEGORIES.reduce((n, c) => n + report.categories[c].sent, 0);
    if (sent === 0) return { state: 'empty', blocks: [{ type: 'empty', text: `${src.title}: no order sent yet; the traffic starts in a moment.` }] };
    const blocks: Block[] = [
      {
        type: 'bars',
        caption: `${src.title}: share of each class kept`,
        data: CATEGORIES.map((c) => ({ label: c, value: report.categories[c].sent ? report.categories[c].kept / report.categories[c].sent : 0 })),
        xLabel: 'kept',
        percent: true,
      },
      {
        type: 'table',
        caption: 'Per class (what the samplers exported, read back)',
        columns: ['class', 'sent', 'kept', 'kept %', 'complete', 'incomplete'],
        rows: CATEGORIES.map((c) => {
          const r = report.categories[c];
          const incomplete = Object.keys(r.incomplete).length;
          return [c, r.sent, r.kept, r.sent ? Math.round((100 * r.kept) / r.sent) : '-', r.complete, incomplete ? { text: String(incomplete), tone: 'bad', title: Object.values(r.incomplete)[0] } : 0];
        }),
      },
      {
        type: 'table',
        caption: 'Split traces: spans of one trace exported by more than one sampler',
        columns: ['kept traces', 'split', 'duplicate spans', 'kept per sampler'],
        rows: [[
          report.keptTraces,
          Object.keys(report.split).length ? { text: String(Object.keys(report.split).length), tone: 'bad', title: Object.keys(report.split).slice(0, 3).join(' ') } : { text: '0', tone: 'good' },
          report.duplicateSpans,
          Object.entries(report.keptBySampler).map(([s, n]) => `${s}=${n}`).join(' '),
        ]],
      },
    ];
    if (history.length) blocks.push({ type: 'lines', caption: "Decisions over time (the samplers' own tail_sampling counters)", data: history, yLabel: 'traces' });
    return blocks;
  },
});
