// The native lab (no Docker needed): starts the real components on well-known loopback ports,
// prints what runs where, and stops everything on Ctrl-C. Components come from the cache that
// scripts/build/all.sh fills (`npm run lab` runs it first).
//
// Ports can be moved with LAB_<NAME>_PORT (e.g. LAB_PROMETHEUS_PORT=19090) if one is taken.
import { createServer } from 'node:net';
import { startCollector } from '../test/support/collector.js';
import { startJaeger } from '../test/support/jaeger.js';
import { startKafka } from '../test/support/kafka.js';
import { startPrometheus } from '../test/support/prometheus.js';
import { runningProcesses, stopAll } from '../test/support/process.js';

const ports = {
  otlpGrpc: envPort('OTLP_GRPC', 4317),
  otlpHttp: envPort('OTLP_HTTP', 4318),
  jaegerUi: envPort('JAEGER', 16686),
  prometheus: envPort('PROMETHEUS', 9090),
  kafka: envPort('KAFKA', 9092),
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
  const [kafka, jaeger, prometheus] = await Promise.all([
    startKafka('kafka', { port: ports.kafka }),
    startJaeger({ env: { QUERY_HTTP_LISTEN: `127.0.0.1:${ports.jaegerUi}` } }),
    startPrometheus({ port: ports.prometheus }),
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
  step(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  console.table([
    { what: 'OTLP in (agent collector)', where: `grpc ${agent.otlpGrpc}, http ${agent.otlpHttp}` },
    { what: 'Jaeger v2 query API', where: `${jaeger.queryUrl}/api/services` },
    { what: 'Prometheus 3 API', where: `${prometheus.url}/api/v1/query?query=up` },
    { what: 'Kafka bootstrap', where: kafka.bootstrap },
  ]);
  console.log('\nLogs:');
  for (const p of runningProcesses()) console.log(`  ${p.name.padEnd(22)} ${p.logFile}`);
  console.log('\nCtrl-C stops everything.');
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
