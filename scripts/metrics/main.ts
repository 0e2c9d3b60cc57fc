// Lab 1's side-by-side table: for each measurement (scripts/metrics/paths.ts), what every path
// stored in Prometheus — series name, the labels that tell the paths apart, value.
//
//   tsx scripts/metrics/main.ts                       # the compose lab's Prometheus (localhost:9090)
//   tsx scripts/metrics/main.ts --prometheus http://host:9090
//   tsx scripts/metrics/main.ts --native [--count 20]  # starts Lab 1 natively, sends traffic,
//                                                         # prints the table, stops everything
//
// Output is a Markdown table (paste it into the README or an issue), from report.ts (the rows the
// workshop console shows too). Labels every series of a row shares are printed once under the
// row's title; a cell shows only what differs.
import { parseArgs } from 'node:util';
import { selector, type LabPath } from './paths.js';
import { renderMarkdown, scrapeVsOtlp } from './report.js';
import { instantQuery } from '../runtime/prometheus.js';

const USAGE = 'usage: npm run lab:metrics -- [--prometheus URL | --native [--count N]]';

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
    return renderMarkdown(await scrapeVsOtlp(lab.prometheus.url));
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
  console.log(renderMarkdown(await scrapeVsOtlp(url)));
}

main().catch((err) => {
  console.error(`lab:metrics: ${err.message}\n${USAGE}`);
  process.exit(1);
});
