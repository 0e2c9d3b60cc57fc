// Lab 1's side-by-side table: for each measurement (scripts/metrics/paths.ts), what every path
// stored in Prometheus — series name, the labels that tell the paths apart, value.
//
//   tsx scripts/metrics/main.ts                       # the compose lab's Prometheus (localhost:9090)
//   tsx scripts/metrics/main.ts --prometheus http://host:9090
//   tsx scripts/metrics/main.ts --native [--count 20]  # starts Lab 1 natively, sends traffic,
//                                                         # prints the table, stops everything
//
// Output is a Markdown table (paste it into the README or an issue). Labels every series of a
// row shares are printed once under the row's title; a cell shows only what differs.
import { parseArgs } from 'node:util';
import {
  LAB_PATHS,
  MEASUREMENTS,
  measurementSelector,
  pathsOf,
  selector,
  type LabPath,
  type Measurement,
} from './paths.js';
import { instantQuery, type Series } from '../runtime/prometheus.js';

const USAGE = 'usage: npm run lab:metrics -- [--prometheus URL | --native [--count N]]';

type Row = { m: Measurement; cells: Map<LabPath, Series[]> };

const MAX_LABELS = 8;
// What tells the paths apart comes first in a cell, so truncation only ever hides the rest.
const FIRST = ['job', 'instance', 'le', 'otel_scope_name', 'otel_scope_version'];
const rank = (label: string) => (FIRST.includes(label) ? FIRST.indexOf(label) : FIRST.length);

async function collect(prometheusUrl: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const m of MEASUREMENTS) {
    const cells = new Map<LabPath, Series[]>();
    for (const p of LAB_PATHS) cells.set(p.id, await instantQuery(prometheusUrl, measurementSelector(m, p.id)));
    rows.push({ m, cells });
  }
  return rows;
}

/** Instance ids are 36-character UUIDs on the OTLP paths: shortened, they still tell the paths apart. */
function show(name: string, value: string): string {
  let v = /^[0-9a-f-]{36}$/.test(value) ? `${value.slice(0, 8)}…` : value;
  if (v.length > 40) v = `${v.slice(0, 39)}…`;
  v = v.replaceAll('|', '\\|');
  return `${name}="${v}"`;
}

function render(rows: Row[]): string {
  const out: string[] = [];
  out.push(`| measurement | ${LAB_PATHS.map((p) => p.id).join(' | ')} |`);
  out.push(`|---|${LAB_PATHS.map(() => '---').join('|')}|`);
  for (const { m, cells } of rows) {
    const all = [...cells.values()].flat();
    // Labels with the same value on every series of the row: said once, under the title.
    const common = new Map<string, string>();
    if (all.length > 0) {
      for (const [k, v] of Object.entries(all[0].labels)) {
        if (k !== 'lab_path' && k !== '__name__' && all.every((s) => s.labels[k] === v)) common.set(k, v);
      }
    }
    const expected = pathsOf(m.service);
    const title = `**${m.title}**<br>\`${m.metric}\`${common.size ? `<br>${[...common].map(([k, v]) => show(k, v)).join(', ')}` : ''}`;
    const cell = (path: LabPath) => {
      const series = cells.get(path)!;
      if (series.length === 0) return expected.includes(path) && !['up', 'target_info'].includes(m.metric) ? '**missing**' : '—';
      return series
        .map((s) => {
          const own = Object.entries(s.labels)
            .filter(([k]) => k !== 'lab_path' && k !== '__name__' && !common.has(k))
            .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
          // target_info carries a dozen resource attributes: the first few say enough.
          const shown = own.slice(0, MAX_LABELS).map(([k, v]) => show(k, v));
          if (own.length > MAX_LABELS) shown.push(`+${own.length - MAX_LABELS} more`);
          const name = s.labels.__name__ === m.metric ? '' : `\`${s.labels.__name__}\` `;
          return `${name}${shown.length ? `{${shown.join(', ')}} ` : ''}**${s.value}**`;
        })
        .sort()
        .join('<br>');
    };
    out.push(`| ${title} | ${LAB_PATHS.map((p) => cell(p.id)).join(' | ')} |`);
  }
  out.push('');
  out.push('Paths: ' + LAB_PATHS.map((p) => `\`${p.id}\` ${p.how}`).join('; ') + '.');
  out.push('— : not on this path (by design); **missing**: expected here but absent.');
  return out.join('\n');
}

async function native(count: number): Promise<string> {
  // The native topology is the tests' harness: the same files, on free loopback ports.
  const { startLab1 } = await import('./lab.js');
  const { stopAll } = await import('../runtime/process.js');
  const { parseMix, runTraffic } = await import('../traffic/index.js');
  try {
    console.error('starting Lab 1 natively (Prometheus, 3 collectors, Kafka, 4 services)...');
    const lab = await startLab1();
    console.error(`sending ${count} orders (80 % ok, 20 % payment errors) to ${lab.services.gateway.url}...`);
    const traffic = await runTraffic({ target: lab.services.gateway.url, count, concurrency: 4, mix: parseMix('ok=80,error=20') });
    console.error(`sent ${traffic.sent}: ${traffic.ok} accepted, ${traffic.errors} refused, ${traffic.failed} unexpected`);
    // Wait until the slowest path (a 2 s scrape) has the accepted orders, then one more export.
    const paths: LabPath[] = ['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'];
    for (const path of paths) {
      await lab.waitForValue(selector('lab_http_server_requests_total', 'gateway', path, 'http_route="/orders", http_response_status_code="201"'), traffic.ok, 30_000);
    }
    await lab.waitForValue(selector('lab_http_server_requests_total', 'payments', '5-delta-fixed', 'http_route="/payments", http_response_status_code="201"'), traffic.ok, 30_000);
    return render(await collect(lab.prometheus.url));
  } finally {
    await stopAll();
  }
}

async function main() {
  const { values } = parseArgs({
    options: { prometheus: { type: 'string' }, native: { type: 'boolean' }, count: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) return console.log(USAGE);
  if (values.native) {
    const count = Number(values.count ?? 20);
    if (!Number.isInteger(count) || count < 1) throw new Error(`--count: "${values.count}" is not a positive integer`);
    return console.log(await native(count));
  }
  const url = (values.prometheus ?? process.env.PROMETHEUS_URL ?? 'http://localhost:9090').replace(/\/+$/, '');
  try {
    await instantQuery(url, 'up');
  } catch (err) {
    throw new Error(`no Prometheus answering at ${url} (${(err as Error).message}); start the lab (docker compose --profile metrics up) or use --native`);
  }
  console.log(render(await collect(url)));
}

main().catch((err) => {
  console.error(`lab:metrics: ${err.message}\n${USAGE}`);
  process.exit(1);
});
