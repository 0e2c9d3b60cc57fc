// The native lab (no Docker needed): the real components and the four demo services on the
// same ports as the compose lab (scripts/native-lab.ts), the workshop console
// (scripts/console/), a gentle stream of orders with a known mix, a table of what runs where,
// and everything stopped on Ctrl-C. Components come from the cache that
// scripts/build/all.sh fills (`npm run lab` runs it first).
//
//   npm run lab [-- --rate 2 | --no-traffic]
//
// Ports can be moved with LAB_<NAME>_PORT (e.g. LAB_PROMETHEUS_PORT=19090) if one is taken.
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { startConsole } from './console/server.js';
import { startNativeLab } from './native-lab.js';
import { runningProcesses, stopAll } from './runtime/process.js';
import { SERVICE_NAMES } from './runtime/services.js';
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
  console: envPort('CONSOLE', 8090),
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

  const t0 = Date.now();
  const lab = await startNativeLab(ports, step);
  const { jaeger, agent, services, metrics } = lab;
  const prometheus = metrics.prometheus;
  const kafka = lab.kafka;
  const console_ = await startConsole(
    { components: lab.components, prometheusUrl: prometheus.url, jaegerUrl: jaeger.queryUrl, gatewayUrl: services.gateway.url },
    { port: ports.console },
  );
  step(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  console.table([
    { what: 'workshop console (one tab per lab)', where: console_.url },
    { what: 'gateway (POST /orders)', where: `${services.gateway.url}/orders` },
    { what: 'services /metrics', where: SERVICE_NAMES.map((s) => services[s].metricsUrl).join(' ') },
    { what: 'OTLP in (agent collector)', where: `grpc ${agent.otlpGrpc}, http ${agent.otlpHttp}` },
    { what: 'Jaeger v2 query API', where: `${jaeger.queryUrl}/api/services` },
    { what: 'Prometheus 3 API (Lab 1)', where: `${prometheus.url}/api/v1/query?query=up` },
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
