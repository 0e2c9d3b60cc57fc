// The workshop console's web server: node:http in the lab's own process, one page (public/),
// the charting library from node_modules (Observable Plot on d3), and a small JSON API over the
// panels (registry.ts) and the backends the context names. Nothing is computed in the page that
// the API did not read from a real backend.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../runtime/components.js';
import { readJaegerTrace } from '../runtime/jaeger.js';
import { placeOrder, spanCount, type Fault } from '../runtime/orders.js';
import { healthProblem, type ConsoleContext } from './context.js';
import type { Panel } from './panel.js';
import { loadPanels } from './registry.js';
import { traceIdFrom, waterfall } from './traces.js';
import type { PanelView } from './view.js';

export interface Console {
  url: string;
  panels: Panel[];
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

const PUBLIC = join(import.meta.dirname, 'public');
const ASSETS: Record<string, [string, string]> = {
  '/': [join(PUBLIC, 'index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(PUBLIC, 'app.js'), 'text/javascript; charset=utf-8'],
  '/style.css': [join(PUBLIC, 'style.css'), 'text/css; charset=utf-8'],
  // Plot's UMD build expects d3 as a global: d3 first (index.html's order).
  '/vendor/d3.min.js': [join(repoRoot, 'node_modules/d3/dist/d3.min.js'), 'text/javascript; charset=utf-8'],
  '/vendor/plot.min.js': [join(repoRoot, 'node_modules/@observablehq/plot/dist/plot.umd.min.js'), 'text/javascript; charset=utf-8'],
};

function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(ASSETS)) {
    if (!existsSync(file)) throw new Error(`console: ${file} is missing (run npm ci: the console serves d3 and @observablehq/plot from node_modules)`);
    const body = readFileSync(file);
    out.set(path, { type, body, gzip: gzipSync(body, { level: 9 }) });
  }
  return out;
}

/** An error's message with its cause (fetch's "fetch failed" says nothing alone). */
function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause ? `${e.message} (${e.cause.code ?? e.cause.message})` : e.message;
}

const FAULTS: Record<string, Fault> = { ok: 'none', error: 'error', slow: 'slow' };

function json(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (text.length > 10_000) throw new Error('request body too large');
  return text ? JSON.parse(text) : {};
}

/** A panel's view: its components' health first (any down: red, naming it and its log), then its blocks. */
export async function panelView(panel: Panel, ctx: ConsoleContext): Promise<PanelView> {
  const used = new Set(panel.uses(ctx));
  const components = ctx.components().filter((c) => used.has(c.name));
  const problems = await Promise.all(components.map(healthProblem));
  const down = components.flatMap((c, i) => (problems[i] ? [{ component: c.name, problem: problems[i]!, log: c.log }] : []));
  try {
    const out = await panel.render(ctx);
    const view: PanelView = Array.isArray(out) ? { state: 'ok', blocks: out } : out;
    return down.length ? { ...view, state: 'down', down } : view;
  } catch (err) {
    // A backend that answers its health check but fails the query is down too, for this panel.
    const first = components[0];
    return {
      state: 'down',
      down: down.length ? down : [{ component: first?.name ?? [...used][0] ?? panel.title, problem: errorText(err), log: first?.log ?? '(not a component of this console)' }],
      blocks: [],
    };
  }
}

export async function startConsole(ctx: ConsoleContext, opts: { port?: number; host?: string } = {}): Promise<Console> {
  const assets = loadAssets();
  const panels = await loadPanels();
  const stops = panels.map((p) => p.watch?.(ctx) ?? (() => {}));

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    const asset = req.method === 'GET' ? assets.get(path) : undefined;
    if (asset) {
      const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gz ? asset.gzip : asset.body;
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': body.length,
        ...(gz ? { 'content-encoding': 'gzip' } : {}),
        'cache-control': path.startsWith('/vendor/') ? 'max-age=86400' : 'no-cache',
      });
      return res.end(body);
    }
    if (req.method === 'GET' && path === '/api/panels') {
      return json(res, 200, panels.map((p) => ({ id: p.id, title: p.title, claim: p.claim })));
    }
    const panelMatch = /^\/api\/panels\/([a-z0-9-]+)$/.exec(path);
    if (req.method === 'GET' && panelMatch) {
      const panel = panels.find((p) => p.id === panelMatch[1]);
      if (!panel) return json(res, 404, { error: `no panel '${panelMatch[1]}' (panels: ${panels.map((p) => p.id).join(', ')})` });
      return json(res, 200, await panelView(panel, ctx));
    }
    const traceMatch = /^\/api\/traces\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && traceMatch) {
      const traceId = traceIdFrom(decodeURIComponent(traceMatch[1]));
      if (!traceId) return json(res, 400, { error: `"${decodeURIComponent(traceMatch[1])}" is neither a 32-hex-digit trace id nor a traceresponse header value (00-<trace id>-<span id>-01)` });
      if (!ctx.jaegerUrl) return json(res, 503, { error: 'no trace store is configured for this console' });
      try {
        const spans = await readJaegerTrace(ctx.jaegerUrl, traceId);
        return json(res, 200, { traceId, spans: waterfall(spans) });
      } catch (err) {
        return json(res, 502, { error: `Jaeger: ${(err as Error).message}` });
      }
    }
    if (req.method === 'POST' && path === '/api/orders') {
      if (!ctx.gatewayUrl) return json(res, 503, { error: 'no gateway is configured for this console' });
      const { kind } = await readBody(req);
      if (!(kind in FAULTS)) return json(res, 400, { error: `kind must be ok, error or slow, not ${JSON.stringify(kind)}` });
      try {
        const placed = await placeOrder(ctx.gatewayUrl, FAULTS[kind]);
        return json(res, 200, { traceId: placed.traceId, status: placed.status, ms: Math.round(placed.ms), traceresponse: placed.traceresponse, expectedSpans: spanCount(kind) });
      } catch (err) {
        return json(res, 502, { error: `gateway ${ctx.gatewayUrl}: ${(err as Error).message}` });
      }
    }
    return json(res, 404, { error: `no such page: ${req.method} ${path}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`console: port ${opts.port} is already in use (move it with LAB_CONSOLE_PORT)`) : err),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    panels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of stops) stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
