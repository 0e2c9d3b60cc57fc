// Benchmark: how long each native component takes from spawn to ready (warm caches), over a
// few rounds, one component at a time so they don't compete. Prints a table; not a test.
//   npm run bench:startup -- [rounds]
import { startCollector } from '../runtime/collector.js';
import { startJaeger } from '../runtime/jaeger.js';
import { startKafka } from '../runtime/kafka.js';
import { startPrometheus } from '../runtime/prometheus.js';
import { stopAll } from '../runtime/process.js';
import { artifact } from '../runtime/components.js';

const rounds = Number(process.argv[2] ?? 3);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error('rounds: a whole number from 1 to 20');

const components: Record<string, () => Promise<unknown>> = {
  'collector (agent.yaml)': () => startCollector({ config: 'collector/agent.yaml', env: { TRACES_EXPORT_ENDPOINT: '127.0.0.1:1', METRICS_EXPORT_ENDPOINT: 'http://127.0.0.1:1' } }),
  'jaeger v2': () => startJaeger(),
  'prometheus 3': () => startPrometheus(),
  'kafka (KRaft, incl. storage format)': () => startKafka(),
};

// Resolve every artifact first, so a cold build is not timed as a start.
for (const c of ['collector', 'jaeger', 'prometheus', 'kafka'] as const) artifact(c);

const rows = [];
for (const [name, start] of Object.entries(components)) {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await start();
    times.push(performance.now() - t0);
    await stopAll();
  }
  times.sort((a, b) => a - b);
  rows.push({
    component: name,
    'median ms': Math.round(times[Math.floor(times.length / 2)]),
    'min ms': Math.round(times[0]),
    'max ms': Math.round(times[times.length - 1]),
  });
  console.error(`[bench] ${name}: done`);
}
console.table(rows);
