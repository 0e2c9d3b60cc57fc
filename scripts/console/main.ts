// The workshop console on its own, against backends that already run: the compose lab (its
// `console` service runs this), or a native lab started elsewhere. `npm run lab` needs none of
// this: it serves the console itself.
//
//   tsx scripts/console/main.ts [--port 8090] [--host 127.0.0.1]
//       [--prometheus http://localhost:9090] [--jaeger http://localhost:16686]
//       [--gateway http://localhost:8080] [--kafka localhost:9092] [--logs 'docker compose logs']
//
// Health: Prometheus /-/ready, Jaeger's query API, the gateway's /health, Kafka's port.
// `--logs` is the command that shows a component's log (its service name is appended).
import { parseArgs } from 'node:util';
import type { ComponentInfo } from './context.js';
import { startConsole } from './server.js';

const USAGE = 'usage: tsx scripts/console/main.ts [--port N] [--host H] [--prometheus URL] [--jaeger URL] [--gateway URL] [--kafka host:port] [--logs CMD]';

async function main() {
  const { values: v } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.CONSOLE_PORT ?? '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      prometheus: { type: 'string', default: process.env.PROMETHEUS_URL ?? 'http://localhost:9090' },
      jaeger: { type: 'string', default: process.env.JAEGER_URL ?? 'http://localhost:16686' },
      gateway: { type: 'string', default: process.env.GATEWAY_URL ?? 'http://localhost:8080' },
      kafka: { type: 'string', default: process.env.KAFKA_BOOTSTRAP ?? 'localhost:9092' },
      logs: { type: 'string', default: 'docker compose logs' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (v.help) return console.log(USAGE);
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${v.port} is not a port number`);
  const url = (name: string, text: string) => {
    try {
      return new URL(text).href.replace(/\/+$/, '');
    } catch {
      throw new Error(`--${name} ${text} is not a URL`);
    }
  };
  const [prometheus, jaeger, gateway] = [url('prometheus', v.prometheus!), url('jaeger', v.jaeger!), url('gateway', v.gateway!)];
  const components: ComponentInfo[] = [
    { name: 'Jaeger', role: 'trace store (query API)', address: jaeger, health: `${jaeger}/api/services`, log: `${v.logs} jaeger` },
    { name: 'Prometheus', role: 'metrics store (Lab 1)', address: prometheus, health: `${prometheus}/-/ready`, log: `${v.logs} prometheus` },
    { name: 'Kafka', role: 'broker (orders topic)', address: v.kafka!, health: `tcp://${v.kafka}`, log: `${v.logs} kafka` },
    { name: 'gateway', role: 'demo service', address: gateway, health: `${gateway}/health`, log: `${v.logs} gateway` },
  ];
  const app = await startConsole({ components: () => components, prometheusUrl: prometheus, jaegerUrl: jaeger, gatewayUrl: gateway }, { port, host: v.host });
  console.log(`[console] ${app.url} (panels: ${app.panels.map((p) => p.id).join(', ')}); reading Prometheus ${prometheus}, Jaeger ${jaeger}, gateway ${gateway}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`console: ${err instanceof Error ? err.message : err}\n${USAGE}`);
  process.exit(1);
});
