// Lab 5: flame graphs drawn by d3-flame-graph (the d3.js flame graph library), not by hand.
//
// One self-contained HTML page (d3 and d3-flame-graph inlined: no network, open it from disk)
// with one interactive chart per service: click a frame to zoom, hover for its share. The same
// page is also rendered here, in happy-dom (a browser DOM without a screen), so that the report
// can hand out each chart as a static SVG and say which functions it names: what the library
// drew, not what we meant to give it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Window } from 'happy-dom';
import { repoRoot } from '../runtime/components.js';
import type { FlameNode } from './profiles.js';

// The browser bundles of the two packages (their package exports do not list them).
const asset = (path: string) => readFileSync(join(repoRoot, 'node_modules', path), 'utf8');

export interface Chart {
  /** Used as the chart's title and id. */
  title: string;
  tree: FlameNode;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** JSON inside a <script>: no "</script>" may end it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** The HTML page: one d3-flame-graph chart per entry. */
export function flameGraphPage(title: string, charts: Chart[], width = 1200): string {
  const sections = charts
    .map((c, i) => `<section><h2>${escapeHtml(c.title)} <small>${c.tree.value} samples</small></h2><div id="chart-${i}" class="chart"></div></section>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:Verdana,sans-serif;margin:1em 2em} h2 small{color:#888;font-weight:normal}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>Flame graphs of the OTLP profiles the collector received: the width of a frame is its share of the samples;
a frame's parent is its caller. Click a frame to zoom in, click the bottom one to zoom out.</p>
${sections}
<script>${asset('d3/dist/d3.min.js')}</script>
<script>${asset('d3-flame-graph/dist/d3-flamegraph.umd.min.js')}</script>
<script>
const trees = ${scriptJson(charts.map((c) => c.tree))};
trees.forEach((tree, i) => {
  // d3-flame-graph 5's UMD bundle exports its factory as flamegraph.default.
  const chart = flamegraph.default().width(${width}).cellHeight(18).minFrameSize(1).sort(true)
    .transitionDuration(window.__static ? 0 : 500).tooltip(false);
  d3.select('#chart-' + i).datum(tree).call(chart);
});
</script>
</body></html>
`;
}

export interface RenderedChart {
  title: string;
  /** The chart as d3-flame-graph drew it, with its stylesheet inlined: opens on its own. */
  svg: string;
  /** The names of the frames it drew (each frame's `name` attribute). */
  frames: string[];
}

/**
 * Renders the page in happy-dom and returns each chart's SVG as d3-flame-graph drew it. The
 * library sets widths and labels in d3 transitions: they are awaited (bounded) before reading.
 */
export async function renderFlameGraphs(page: string, titles: string[]): Promise<RenderedChart[]> {
  const window = new Window({ settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true } });
  try {
    (window as unknown as { __static: boolean }).__static = true;
    window.document.write(page);
    await window.happyDOM.waitUntilComplete();
    const doc = window.document;
    const style = [...doc.querySelectorAll('style')].map((s) => s.textContent).join('\n');
    const deadline = Date.now() + 5_000;
    const settled = () => [...doc.querySelectorAll('g.frame')].every((g) => g.querySelector('rect')?.getAttribute('width') !== null);
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return titles.map((title, i) => {
      const svg = doc.querySelector(`#chart-${i} svg`);
      if (!svg) throw new Error(`d3-flame-graph drew no chart for ${title}`);
      const titleText = svg.querySelector('text.title');
      if (titleText) titleText.textContent = title;
      const frames = [...svg.querySelectorAll('g.frame')].map((g) => g.getAttribute('name') ?? '');
      const sheet = doc.createElementNS('http://www.w3.org/2000/svg', 'style');
      sheet.textContent = style;
      svg.insertBefore(sheet, svg.firstChild);
      // XML, not HTML serialization: a standalone SVG file must be well-formed XML (a frame named
      // `<unknown>+0x…` has a '<' in an attribute), and its HTML labels need their namespace.
      const markup = new window.XMLSerializer().serializeToString(svg);
      return { title, svg: `<?xml version="1.0" encoding="UTF-8"?>\n${markup}\n`, frames };
    });
  } finally {
    await window.happyDOM.close();
  }
}
