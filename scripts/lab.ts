// The native lab (no Docker needed): the real components and the four demo services on the
// same ports as the compose lab, a gentle stream of orders with a known mix, a table of what
// runs where, and everything stopped on Ctrl-C. Components come from the cache that
// scripts/build/all.sh fills (`npm run lab` runs it first).
//
//   npm run lab [-- --rate 2 | --no-traffic]
//
// Ports can be moved with LAB_<NAME>_PORT (e.g. LAB_PROMETHEUS_PORT=19090) if one is taken.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCollector } from './runtime/collector.js';
import { runDir } from './runtime/components.js';
import { startJaeger } from './runtime/jaeger.js';
import { startKafka } from './runtime/kafka.js';
import { prometheusConfigFor, startPrometheus, writeTargetsFile } from './runtime/prometheus.js';
import { runningProcesses, stopAll } from './runtime/process.js';
import { SERVICE_NAMES, startServices } from './runtime/services.js';
import { parseMix } from './traffic/mix.js';
import { runTraffic } from './traffic/run.js';

const args = parseArgs({
  options: { rate: { type: 'string', default: '2' }, 'no-traffic': { type: 'boolean', default: false } },
}).values;
const trafficRate = Number(args.rate);
if (!(trafficRate > 0 && trafficRate <= 200)) throw new Error(`--rate ${args.rate}: orders per second, above 0 and at most 200`);

const ports = {
  otlpGrpc: envPort('OTLP_GRPC', 4317),
  otlpHttp: envPort('OTLP_HTTP', 4318),
  jaegerUi: envPort('JAEGER', 16686),
  prometheus: envPort('PROMETHEUS', 9090),
  kafka: envPort('KAFKA', 9092),
  gateway: envPort('GATEWAY', 8080),
  orders: envPort('ORDERS', 8081),
  payments: envPort('PAYMENTS', 8082),
  fulfillment: envPort('FULFILLMENT', 8083),
};

function envPort(name: string, fallback: number): number {
  const raw = process.env[`LAB_${name}_PORT`];
  const port = raw ? Number(raw) : fallback;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`LAB_${name}_PORT=${raw} is not a port number`);
  }
  return port;
}

async function assertFree(what: string, port: number) {
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  if (!free) {
    const name = Object.entries(ports).find(([, p]) => p === port)?.[0];
    throw new Error(`port ${port} (${what}) is already in use: stop what holds it, or move ours with LAB_${name?.toUpperCase()}_PORT`);
  }
}

function step(msg: string) {
  console.log(`[lab] ${msg}`);
}

async function main() {
  for (const [what, port] of Object.entries(ports)) await assertFree(what, port);

  step('starting Kafka, Jaeger and Prometheus …');
  const t0 = Date.now();
  // Prometheus runs the lab's own config; its scrape targets file lists the services' ports.
  const targetsDir = runDir('lab-targets');
  mkdirSync(join(targetsDir, 'targets'));
  writeTargetsFile(
    join(targetsDir, 'targets', 'services.json'),
    SERVICE_NAMES.map((s) => ({ job: s, address: `127.0.0.1:${ports[s]}` })),
  );
  const [kafka, jaeger, prometheus] = await Promise.all([
    startKafka('kafka', { port: ports.kafka }),
    startJaeger({ env: { QUERY_HTTP_LISTEN: `127.0.0.1:${ports.jaegerUi}` } }),
    startPrometheus({ port: ports.prometheus, configYaml: prometheusConfigFor(targetsDir) }),
  ]);
  step('starting the agent collector …');
  const agent = await startCollector({
    config: 'collector/agent.yaml',
    env: {
      OTLP_GRPC_LISTEN: `127.0.0.1:${ports.otlpGrpc}`,
      OTLP_HTTP_LISTEN: `127.0.0.1:${ports.otlpHttp}`,
      TRACES_EXPORT_ENDPOINT: jaeger.otlpGrpc,
      METRICS_EXPORT_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
    },
  });
  step('starting the services (gateway, orders, payments, fulfillment) …');
  const services = await startServices({
    otlpEndpoint: agent.otlpHttp,
    kafkaBootstrap: kafka.bootstrap,
    ports: { gateway: ports.gateway, orders: ports.orders, payments: ports.payments, fulfillment: ports.fulfillment },
  });
  step(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  console.table([
    { what: 'gateway (POST /orders)', where: `${services.gateway.url}/orders` },
    { what: 'services /metrics', where: SERVICE_NAMES.map((s) => services[s].metricsUrl).join(' ') },
    { what: 'OTLP in (agent collector)', where: `grpc ${agent.otlpGrpc}, http ${agent.otlpHttp}` },
    { what: 'Jaeger v2 query API', where: `${jaeger.queryUrl}/api/services` },
    { what: 'Prometheus 3 API', where: `${prometheus.url}/api/v1/query?query=up` },
    { what: 'Kafka bootstrap', where: kafka.bootstrap },
  ]);
  console.log('\nLogs:');
  for (const p of runningProcesses()) console.log(`  ${p.name.padEnd(22)} ${p.logFile}`);
  console.log('\nTry: curl -si -X POST -H "content-type: application/json" -H "x-lab-fault: error" \\');
  console.log(`       -d '{"customer":"ada","item":"book","quantity":1}' ${services.gateway.url}/orders`);
  console.log(`     curl -s '${prometheus.url}/api/v1/query?query=sum(lab_orders_published_total)'`);
  console.log('\nCtrl-C stops everything.');

  if (!args['no-traffic']) {
    step(`sending ${trafficRate} orders/s (80 % ok, 10 % error, 10 % slow); --no-traffic turns this off`);
    let last = 0;
    await runTraffic({
      target: services.gateway.url,
      durationSeconds: 24 * 3600,
      rate: trafficRate,
      mix: parseMix('ok=80,error=10,slow=10'),
      onProgress: (p) => {
        // One line a minute: enough to see it flows, not enough to bury the table.
        if (p.elapsedSeconds - last < 60) return;
        last = p.elapsedSeconds;
        step(`traffic: ${p.sent} orders sent (ok ${p.ok}, error ${p.errors}, slow ${p.slow}, unexpected ${p.failed})`);
      },
    });
  }
}

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  step('stopping …');
  await stopAll();
  step('stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

main().catch(async (err) => {
  console.error(`[lab] ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
});
