// The console's page: tabs from /api/panels, the shown panel refreshed every few seconds from
// /api/panels/<id>, each block drawn with the DOM or Observable Plot (loaded before this file).
// Nothing here computes evidence: it draws what the server read from the backends.
'use strict';

const REFRESH_MS = 3000;
const FG = '#eceff1';
const state = { panels: [], current: null, timer: null, lastJson: '', openTrace: null, controls: null };

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
};

async function getJson(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

const plotStyle = { background: 'transparent', color: FG, fontSize: '16px', overflow: 'visible' };

// ---------------------------------------------------------------- blocks
function cell(tag, v) {
  if (v !== null && typeof v === 'object') return el(tag, { class: [v.tone, v.mono ? 'mono' : ''].filter(Boolean).join(' ') || undefined, title: v.title }, v.text);
  return el(tag, {}, v);
}

function table(b) {
  return el('div', { class: 'wide', tabindex: 0, role: 'region', 'aria-label': b.caption },
    el('table', { 'data-table': b.caption },
      el('thead', {}, el('tr', {}, b.columns.map((c) => el('th', { scope: 'col' }, c)))),
      el('tbody', {}, b.rows.map((r) => el('tr', {}, r.map(cellRow))))));
}
// Row headers are <th scope="row">; the rest <td>.
function cellRow(v, i) {
  const c = cell(i === 0 ? 'th' : 'td', v);
  if (i === 0) c.setAttribute('scope', 'row');
  return c;
}

function bars(b) {
  const width = Math.min(1100, document.body.clientWidth - 80);
  return Plot.plot({
    width, height: 50 + 40 * b.data.length, marginLeft: 190, style: plotStyle,
    x: { label: b.percent ? `${b.xLabel} (%)` : b.xLabel, grid: true, domain: b.percent ? [0, 100] : undefined },
    y: { label: null },
    marks: [
      Plot.barX(b.data, { x: b.percent ? (d) => d.value * 100 : 'value', y: 'label', fill: '#80cbc4', sort: null }),
      Plot.text(b.data, { x: b.percent ? (d) => d.value * 100 : 'value', y: 'label', text: (d) => (b.percent ? `${Math.round(d.value * 100)} %` : String(d.value)), dx: 6, textAnchor: 'start', fill: FG }),
      Plot.ruleX([0]),
    ],
  });
}

function lines(b) {
  const data = b.data.map((d) => ({ ...d, t: new Date(d.t) }));
  return Plot.plot({
    width: Math.min(1100, document.body.clientWidth - 80), height: 320, style: plotStyle,
    color: { legend: true, style: { background: 'transparent', color: FG, fontSize: '16px' } },
    x: { label: null, type: 'time' }, y: { label: b.yLabel, grid: true },
    marks: [Plot.lineY(data, { x: 't', y: 'value', stroke: 'series', strokeWidth: 2.5 }), Plot.ruleY([0])],
  });
}

function graph(b) {
  const at = new Map(b.nodes.map((n) => [n.id, n]));
  const edges = b.edges.map((e) => ({ ...e, a: at.get(e.from), b: at.get(e.to) }));
  const rows = Math.max(1, ...b.nodes.map((n) => n.y + 1));
  return Plot.plot({
    width: Math.min(1100, document.body.clientWidth - 80), height: 90 + 110 * rows, style: plotStyle,
    x: { axis: null, inset: 90 }, y: { axis: null, inset: 40, reverse: true },
    marks: [
      Plot.arrow(edges, { x1: (e) => e.a.x, y1: (e) => e.a.y, x2: (e) => e.b.x, y2: (e) => e.b.y, inset: 34, stroke: '#b0bec5', strokeWidth: 2.5, headLength: 14 }),
      Plot.text(edges, { x: (e) => (e.a.x + e.b.x) / 2, y: (e) => (e.a.y + e.b.y) / 2, text: 'label', dy: -12, fill: '#ffd180' }),
      Plot.dot(b.nodes, { x: 'x', y: 'y', r: 22, fill: (n) => (n.kind === 'broker' ? '#ffd180' : '#80cbc4'), stroke: FG }),
      Plot.text(b.nodes, { x: 'x', y: 'y', text: 'id', dy: 38, fill: FG, fontSize: 18, fontWeight: 'bold' }),
    ],
  });
}

function tracesList(b) {
  return el('div', { class: 'wide', tabindex: 0, role: 'region', 'aria-label': b.caption },
    el('table', { 'data-table': b.caption },
      el('thead', {}, el('tr', {}, ['trace', 'root', 'started', 'duration', 'status', 'spans'].map((c) => el('th', { scope: 'col' }, c)))),
      el('tbody', {}, b.traces.map((t) => el('tr', {},
        el('td', {}, el('button', { class: 'mono', 'data-key': `open-${t.traceId}`, 'aria-label': `open trace ${t.traceId}`, onclick: () => openTrace(t.traceId) }, t.traceId.slice(0, 12) + '…')),
        el('td', {}, `${t.service}: ${t.root}`),
        el('td', {}, new Date(t.startMs).toLocaleTimeString()),
        el('td', {}, `${t.durationMs.toFixed(1)} ms`),
        el('td', { class: t.status === 'error' ? 'bad' : 'good' }, t.status),
        el('td', {}, t.spans))))));
}

function orderControls() {
  // Built once and kept across refreshes: focus and typed text survive.
  if (state.controls) return state.controls;
  const status = el('p', { id: 'order-status', role: 'status' });
  const input = el('input', { id: 'lookup', type: 'text', placeholder: 'trace id, or a traceresponse: 00-<trace id>-<span id>-01', 'aria-label': 'trace id or traceresponse header' });
  const order = (kind) => async () => {
    status.textContent = `placing a${kind === 'ok' ? 'n' : ''} ${kind} order …`;
    try {
      const o = await getJson('/api/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind }) });
      status.textContent = `gateway answered ${o.status} in ${o.ms} ms, trace ${o.traceId}: waiting for its ${o.expectedSpans} spans …`;
      await waitForTrace(o.traceId, o.expectedSpans, status);
    } catch (err) {
      status.textContent = `order failed: ${err.message}`;
    }
  };
  const lookup = (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    const m = /([0-9a-f]{32})/i.exec(text);
    if (!m) { status.textContent = `"${text}" holds no 32-hex-digit trace id`; return; }
    openTrace(m[1].toLowerCase());
  };
  state.controls = el('div', {},
    el('div', { class: 'controls', role: 'group', 'aria-label': 'place an order' },
      el('span', {}, 'Place an order:'),
      ...['ok', 'error', 'slow'].map((k) => el('button', { class: k, 'data-order': k, onclick: order(k) }, k))),
    el('form', { class: 'controls', onsubmit: lookup }, input, el('button', { type: 'submit' }, 'Open trace')),
    status);
  return state.controls;
}

async function waitForTrace(traceId, expected, status) {
  const deadline = Date.now() + 30_000;
  let n = 0;
  while (Date.now() < deadline) {
    const t = await getJson(`/api/traces/${traceId}`).catch(() => ({ spans: [] }));
    n = t.spans.length;
    if (n >= expected) {
      status.textContent = `trace ${traceId}: all ${n} spans arrived`;
      return openTrace(traceId, t);
    }
    status.textContent = `trace ${traceId}: ${n} of ${expected} spans in Jaeger …`;
    await new Promise((r) => setTimeout(r, 500));
  }
  status.textContent = `trace ${traceId}: only ${n} of ${expected} spans after 30 s (is the agent collector up?)`;
}

function kv(obj) {
  return el('table', {}, el('tbody', {}, Object.entries(obj).map(([k, v]) => el('tr', {}, el('th', { scope: 'row', class: 'mono' }, k), el('td', { class: 'mono' }, typeof v === 'object' ? JSON.stringify(v) : String(v))))));
}

async function openTrace(traceId, loaded) {
  state.openTrace = traceId;
  const box = document.getElementById('trace-detail');
  if (!box) return;
  let t = loaded;
  try {
    t = t || (await getJson(`/api/traces/${traceId}`));
  } catch (err) {
    box.replaceChildren(el('p', { class: 'status-error' }, `trace ${traceId}: ${err.message}`));
    return;
  }
  box.setAttribute('data-trace-id', traceId);
  box.setAttribute('data-spans', String(t.spans.length));
  if (!t.spans.length) {
    box.replaceChildren(el('div', { class: 'empty' }, `Jaeger has no span of trace ${traceId} (yet): it arrives within a few seconds of the order.`));
    return;
  }
  const rows = t.spans.map((s, i) => ({ ...s, label: `${'  '.repeat(s.depth)}${s.service}: ${s.name}`, key: i, end: s.offsetMs + s.durationMs }));
  const plot = Plot.plot({
    width: Math.min(1150, document.body.clientWidth - 60), height: 60 + 30 * rows.length, marginLeft: 420, style: plotStyle,
    x: { label: 'ms from the first span', grid: true }, y: { label: null, domain: rows.map((r) => r.label) },
    color: { legend: true, style: { background: 'transparent', color: FG, fontSize: '16px' } },
    marks: [
      Plot.barX(rows, { x1: 'offsetMs', x2: (r) => Math.max(r.end, r.offsetMs + 0.05), y: 'label', fill: 'service' }),
      Plot.barX(rows.filter((r) => r.status === 'ERROR'), { x1: 'offsetMs', x2: (r) => Math.max(r.end, r.offsetMs + 0.05), y: 'label', stroke: '#ff8a80', strokeWidth: 3, fill: 'none' }),
      Plot.text(rows, { x: 'end', y: 'label', text: (r) => `${r.durationMs.toFixed(1)} ms${r.status === 'ERROR' ? ' ERROR' : ''}`, dx: 5, textAnchor: 'start', fill: FG, fontSize: 14 }),
    ],
  });
  box.replaceChildren(
    el('h3', {}, `Trace ${traceId}: ${t.spans.length} spans`),
    chart(plot, `waterfall of trace ${traceId}`),
    el('h3', {}, 'Spans: attributes and resource'),
    ...rows.map((r) => el('details', {},
      el('summary', {}, `${r.label.trim()} (${r.kind}, ${r.durationMs.toFixed(1)} ms${r.status === 'ERROR' ? `, ERROR ${r.statusMessage}` : ''})`),
      el('h4', {}, 'attributes'), kv(r.attributes), el('h4', {}, 'resource'), kv(r.resource))));
}

// Plot labels each mark's <g> (aria-label="bar"), which axe rejects on a role-less <g>: a chart is
// one image, named by its caption.
function chart(node, caption) {
  for (const svg of node.tagName === 'svg' ? [node] : node.querySelectorAll('svg')) {
    for (const g of svg.querySelectorAll('[aria-label]')) g.removeAttribute('aria-label');
    for (const g of svg.querySelectorAll('[aria-description]')) g.removeAttribute('aria-description');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', caption);
  }
  return node;
}

function block(b) {
  const wrap = (title, body) => el('section', { class: 'block', 'data-block': b.type }, title ? el('h3', {}, title) : null, body);
  switch (b.type) {
    case 'text': return wrap(null, el('p', {}, b.text));
    case 'empty': return el('div', { class: 'empty', 'data-block': 'empty', role: 'note' }, b.text, b.command ? el('code', {}, b.command) : null);
    case 'table': return wrap(b.caption, table(b));
    case 'bars': return wrap(b.caption, chart(bars(b), b.caption));
    case 'lines': return wrap(b.caption, chart(lines(b), b.caption));
    case 'graph': return wrap(b.caption, chart(graph(b), b.caption));
    case 'traces': return wrap(b.caption, tracesList(b));
    case 'order-controls': return wrap(null, orderControls());
    case 'diff': return wrap(b.caption, el('pre', { class: 'diff' }, b.lines.map((l) => el('span', { class: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : undefined }, `${l}\n`))));
    default: return wrap(null, el('p', {}, `(this page cannot draw a '${b.type}' block yet: public/app.js)`));
  }
}

// ---------------------------------------------------------------- panels
function render(panel, view) {
  const main = document.getElementById('panel');
  const focusedKey = document.activeElement?.getAttribute?.('data-key');
  main.classList.toggle('down', view.state === 'down');
  main.setAttribute('data-state', view.state);
  const tab = document.querySelector(`nav a[href="#${panel.id}"]`);
  tab?.classList.toggle('down', view.state === 'down');
  const alert = view.state === 'down'
    ? el('div', { class: 'alert', role: 'alert', 'data-down': view.down.map((d) => d.component).join(',') },
        ...view.down.map((d) => el('p', {}, el('strong', {}, `${d.component} is down`), ` — ${d.problem}`, el('br'), 'log: ', el('code', {}, d.log))))
    : null;
  const detail = panel.id === 'traces' ? (document.getElementById('trace-detail') || el('section', { id: 'trace-detail', class: 'block', 'aria-label': 'trace waterfall' })) : null;
  main.replaceChildren(...[el('h2', {}, panel.title), el('p', { class: 'claim' }, panel.claim), alert, ...view.blocks.map(block), detail].filter(Boolean));
  if (focusedKey) main.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

// A trace opened before all its spans were stored fills in as they arrive.
async function refreshOpenTrace() {
  const box = document.getElementById('trace-detail');
  const t = await getJson(`/api/traces/${state.openTrace}`).catch(() => undefined);
  if (box && t && String(t.spans.length) !== box.getAttribute('data-spans')) await openTrace(state.openTrace, t);
}

async function refresh() {
  const panel = state.current;
  if (!panel) return;
  try {
    const view = await getJson(`/api/panels/${panel.id}`);
    const text = JSON.stringify(view);
    if (panel !== state.current) return;
    if (text === state.lastJson) {
      if (panel.id === 'traces' && state.openTrace) await refreshOpenTrace();
      return;
    }
    state.lastJson = text;
    render(panel, view);
    if (panel.id === 'traces' && state.openTrace) await refreshOpenTrace();
  } catch (err) {
    // The console itself stopped answering: say so where the panel was.
    render(panel, { state: 'down', down: [{ component: 'console', problem: err.message, log: 'the terminal that runs npm run lab' }], blocks: [] });
    state.lastJson = '';
  } finally {
    if (panel === state.current) {
      clearTimeout(state.timer);
      state.timer = setTimeout(refresh, REFRESH_MS);
    }
  }
}

function show() {
  const id = location.hash.slice(1) || state.panels[0].id;
  const panel = state.panels.find((p) => p.id === id) || state.panels[0];
  if (panel === state.current) return;
  state.current = panel;
  state.lastJson = '';
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === `#${panel.id}`);
  for (const a of document.querySelectorAll('nav a[aria-current]')) a.setAttribute('aria-current', 'page');
  document.title = `${panel.title} · otel-lab console`;
  const main = document.getElementById('panel');
  main.removeAttribute('data-state');
  main.replaceChildren(el('h2', {}, panel.title), el('p', { class: 'loading' }, 'Loading …'));
  clearTimeout(state.timer);
  refresh();
}

async function start() {
  state.panels = await getJson('/api/panels');
  document.getElementById('tabs').replaceChildren(...state.panels.map((p) => el('li', {}, el('a', { href: `#${p.id}`, 'data-panel': p.id }, p.title))));
  addEventListener('hashchange', show);
  show();
}

start().catch((err) => {
  document.getElementById('panel').replaceChildren(el('div', { class: 'alert', role: 'alert' }, el('strong', {}, 'console is down'), ` — ${err.message}`));
});
