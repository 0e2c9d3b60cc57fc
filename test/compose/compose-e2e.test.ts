// `docker compose up`, end to end, as a workshop attendee would use it: each profile in turn
// (`docker compose --profile <p> up -d --wait`), known orders through the gateway's published
// port, and the answers read through the published ports of Jaeger and Prometheus. Then
// `down -v`, and nothing of the lab may be left.
//
// Runs on the user's Docker engine, or on the project's own (scripts/docker/engine.sh) with
// local stand-ins for the official images (scripts/docker/images.sh): Grafana cannot be built
// here, so it is left out of `up` (its data sources and dashboards are checked through
// Prometheus: every dashboard query must return data).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraffic, type TrafficResult } from '../../scripts/traffic/index.js';
import { prepareDocker } from '../../scripts/runtime/docker.js';
import { compose, composeConfig, PROFILES, type Profile } from '../../scripts/runtime/compose.js';
import { cacheDir, freePort, repoRoot, waitFor, type Span } from '../../scripts/runtime/index.js';
import { readJaegerTrace } from '../../scripts/runtime/jaeger.js';
import { incompleteness } from '../../scripts/runtime/orders.js';
import { instantQuery } from '../../scripts/runtime/prometheus.js';
import { binomialBounds } from '../../scripts/sampling/report.js';

const run = promisify(execFile);
const project = 'otel-lab-e2e';
// What the sampling profiles are run with: the share of OK traces kept, and a short decision wait.
const KEEP_PERCENT = 20;
const env: Record<string, string> = { KEEP_PERCENT: String(KEEP_PERCENT), DECISION_WAIT: '3s', TRAFFIC_RATE: '1' };
const url = { gateway: '', jaeger: '', prometheus: '' };
const timings: string[] = [];
const memory = new Map<Profile, { peakMiB: number; limitsMiB: number; perContainer: Record<string, number> }>();

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await step();
  timings.push(`${what}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

const opts = (profile?: Profile) => ({ project, profile, env });

/** The services a profile starts, Grafana excepted when it cannot be pulled (local images). */
async function servicesOf(profile: Profile): Promise<string[]> {
  const config = await composeConfig(opts(profile));
  const local = process.env.OTEL_LAB_ENGINE === 'project' || process.env.LAB_IMAGES === 'local';
  return Object.keys(config.services).filter((s) => !(local && s === 'grafana'));
}

const jaegerTrace = (traceId: string) => readJaegerTrace(url.jaeger, traceId);
const promQuery = (promql: string) => instantQuery(url.prometheus, promql);

/** An order's whole trace, as scripts/runtime/orders.ts defines it (every span of every hop). */
const isCompleteOrder = (spans: Span[]) => incompleteness(spans, 'ok') === undefined;

/** Every PromQL expression of the provisioned dashboards, Grafana's interval macros filled in. */
function dashboardQueries(): { dashboard: string; panel: string; expr: string }[] {
  const dir = join(repoRoot, 'config/grafana/dashboards');
  const out: { dashboard: string; panel: string; expr: string }[] = [];
  const visit = (dashboard: string, panels: any[]) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) {
        if (t.expr) out.push({ dashboard, panel: p.title, expr: String(t.expr).replace(/\$__(rate_interval|interval|range)/g, '1m') });
      }
      visit(dashboard, p.panels);
    }
  };
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) visit(f, JSON.parse(readFileSync(join(dir, f), 'utf8')).panels);
  return out;
}

/** Memory of the project's containers (docker stats), sampled until stopped. */
function sampleMemory(profile: Profile, limitsMiB: number) {
  let stop = false;
  const record = { peakMiB: 0, limitsMiB, perContainer: {} as Record<string, number> };
  memory.set(profile, record);
  const loop = (async () => {
    while (!stop) {
      const { stdout } = await run('docker', ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}']);
      let sum = 0;
      for (const line of stdout.trim().split('\n')) {
        const m = /^(otel-lab-e2e-\S+) ([\d.]+)(KiB|MiB|GiB)/.exec(line);
        if (!m) continue;
        const mib = Number(m[2]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[3] as 'MiB'];
        sum += mib;
        record.perContainer[m[1]] = Math.max(record.perContainer[m[1]] ?? 0, Math.round(mib));
      }
      record.peakMiB = Math.max(record.peakMiB, Math.round(sum));
    }
  })();
  return async () => {
    stop = true;
    await loop;
  };
}

/** Containers of the project that restarted or were OOM-killed (their limit was too small). */
async function unhealthyContainers(): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
  const ids = stdout.trim().split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const { stdout: info } = await run('docker', ['inspect', '-f', '{{.Name}} restarts={{.RestartCount}} oom={{.State.OOMKilled}} {{.State.Status}}', ...ids]);
  return info.trim().split('\n').filter((l) => !/restarts=0 oom=false running/.test(l));
}

async function leftovers(): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const out: string[] = [];
  for (const [kind, args] of [
    ['container', ['ps', '-a', '--filter', label, '--format', '{{.Names}}']],
    ['volume', ['volume', 'ls', '--filter', label, '--format', '{{.Name}}']],
    ['network', ['network', 'ls', '--filter', label, '--format', '{{.Name}}']],
  ] as const) {
    const { stdout } = await run('docker', [...args]);
    out.push(...stdout.trim().split('\n').filter(Boolean).map((n) => `${kind} ${n}`));
  }
  return out;
}

/**
 * One end-to-end run at a time on this machine (another checkout's test run shares the engine,
 * the project name and the image tags). The lock is held by `flock` until its child's stdin
 * closes: on release, and also when this process dies, so a crashed run never keeps it.
 */
async function machineLock(): Promise<ChildProcess> {
  const dir = join(cacheDir(), 'docker');
  mkdirSync(dir, { recursive: true });
  const holder = spawn('flock', [join(dir, 'compose-e2e.lock'), '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('error', (err) => reject(new Error(`flock (util-linux) is needed to run the compose e2e test: ${err.message}`)));
    holder.once('exit', (code) => reject(new Error(`could not take the compose e2e lock (flock exited ${code})`)));
  });
  return holder;
}

describe('docker compose up: the lab in containers, asserted through its published ports', () => {
  let previous: Profile | undefined;
  let lock: ChildProcess | undefined;

  beforeAll(async () => {
    lock = await timed('waiting for other compose e2e runs on this machine', machineLock);
    await timed('engine and local images', prepareDocker);
    for (const [key, name] of [
      ['GATEWAY_PORT', 'gateway'],
      ['JAEGER_UI_PORT', 'jaeger'],
      ['PROMETHEUS_PORT', 'prometheus'],
    ] as const) {
      env[key] = String(await freePort());
      url[name] = `http://127.0.0.1:${env[key]}`;
    }
    for (const key of ['AGENT_OTLP_GRPC_PORT', 'AGENT_OTLP_HTTP_PORT', 'GRAFANA_PORT']) env[key] = String(await freePort());
    // A run killed half-way must not break the next one.
    await compose(['--profile', '*', 'down', '-v', '--remove-orphans'], opts());
    // One build at a time: the traffic image is the services image's build stage, cached by then.
    await timed('docker compose build (services and traffic images)', () =>
      compose(['build'], { ...opts('everything'), env: { ...env, COMPOSE_PARALLEL_LIMIT: '1' } }, 900_000),
    );
  }, 1_200_000);

  afterAll(async () => {
    // The shop first, while its collectors still take the SDKs' last flush. (down orders by the
    // dependencies recorded when a container was created: the services' are from the first
    // profile, whose agent is gone by now.)
    await compose(['stop', '-t', '10', 'traffic', 'gateway', 'orders', 'payments', 'fulfillment'], opts('everything'));
    await timed('docker compose down -v', () => compose(['--profile', '*', 'down', '-v', '--remove-orphans', '-t', '10'], opts()));
    console.log(['compose e2e timings:', ...timings].join('\n  '));
    for (const [profile, m] of memory) {
      console.log(`memory, profile ${profile}: peak ${m.peakMiB} MiB (sum of limits ${m.limitsMiB} MiB) ${JSON.stringify(m.perContainer)}`);
    }
    lock?.stdin?.end();
    expect(await leftovers(), 'lab containers, volumes or networks left after down -v').toEqual([]);
  }, 180_000);

  for (const profile of PROFILES) {
    describe(`profile ${profile}`, () => {
      let traffic: TrafficResult;
      let stopSampling: () => Promise<void>;

      beforeAll(async () => {
        const services = await servicesOf(profile);
        if (previous) {
          // What the previous profile ran and this one does not (its agent among them) goes first.
          const gone = (await servicesOf(previous)).filter((s) => !services.includes(s));
          if (gone.length) await compose(['rm', '-sf', ...gone], opts(previous));
        }
        previous = profile;
        const config = await composeConfig(opts(profile));
        const limits = services.reduce((n, s) => n + (Number(config.services[s].mem_limit) / 2 ** 20) * (config.services[s].deploy?.replicas ?? 1), 0);
        stopSampling = sampleMemory(profile, limits);
        await timed(`up --wait, profile ${profile}`, () => compose(['up', '-d', '--wait', '--wait-timeout', '300', ...services], opts(profile)));
        traffic = await timed(`traffic, profile ${profile}`, () =>
          runTraffic({ target: url.gateway, count: 100, rate: 25, concurrency: 4, mix: { ok: 80, error: 20, slow: 0 } }),
        );
        expect(traffic.failed, JSON.stringify(traffic.failures.slice(0, 3))).toBe(0);
      }, 600_000);

      afterAll(async () => {
        await stopSampling?.();
        expect(await unhealthyContainers(), 'containers restarted or killed for lack of memory').toEqual([]);
      }, 60_000);

      if (profile === 'metrics' || profile === 'everything') {
        it('shows an order as one trace across gateway, orders, payments (HTTP) and fulfillment (Kafka) in Jaeger', async () => {
          // With Lab 2's samplers (everything) not every OK trace is kept: look at the first one kept.
          const spans = await waitFor(async () => {
            for (const id of traffic.traceIds.ok) {
              const s = await jaegerTrace(id);
              if (isCompleteOrder(s)) return s;
            }
            return undefined;
          }, { what: `an OK order's whole trace in Jaeger (${url.jaeger}/api/v3/traces/<id>)`, timeoutMs: 60_000, intervalMs: 1000 });
          expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
          expect(spans.filter((s) => s.kind === 'SERVER').map((s) => s.service)).toEqual(expect.arrayContaining(['gateway', 'orders', 'payments']));
        });

        it('has every path of Lab 1 in Prometheus, with the expected names and labels', async () => {
          const paths = await waitFor(async () => {
            const r = await promQuery('count by (lab_path) (lab_http_server_requests_total{job=~"(.+/)?gateway", http_route="/orders"})');
            const found = r.map((s) => s.labels.lab_path).sort();
            return found.length >= 4 && found;
          }, { what: 'lab_http_server_requests_total for gateway on 4 paths', timeoutMs: 90_000 });
          expect(paths).toEqual(['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native']);
          const up = await promQuery('up{job=~"gateway|orders|payments|fulfillment", lab_path="1-scrape"}');
          expect(Object.fromEntries(up.map((s) => [s.labels.job, s.value]))).toEqual({ gateway: 1, orders: 1, payments: 1, fulfillment: 1 });
          // payments exports delta: its request counter survives only through deltatocumulative
          // (5-delta-fixed); the raw paths keep just what they can translate (gauges, for remote write).
          const delta = await waitFor(async () => {
            const r = await promQuery('count by (lab_path) ({job=~"(.+/)?payments", lab_path=~"5-.*"})');
            const found = r.map((s) => s.labels.lab_path).sort();
            return found.includes('5-delta-fixed') && found.includes('5-delta-raw-rw') && found;
          }, { what: 'payments series on the delta paths in Prometheus', timeoutMs: 60_000 });
          expect(delta).toEqual(expect.arrayContaining(['5-delta-fixed', '5-delta-raw-rw']));
          const counter = await promQuery('count by (lab_path) (lab_http_server_requests_total{job=~"(.+/)?payments", lab_path=~"5-.*"})');
          expect(counter.map((s) => s.labels.lab_path)).toEqual(['5-delta-fixed']);
        }, 180_000);

        it('answers every PromQL query of the provisioned dashboards with data', async () => {
          const queries = dashboardQueries();
          expect(queries.length).toBeGreaterThan(0);
          const withoutData = async () => {
            const missing: string[] = [];
            for (const q of queries) if ((await promQuery(q.expr)).length === 0) missing.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
            return missing;
          };
          try {
            await waitFor(async () => (await withoutData()).length === 0, { what: 'data for every dashboard query', timeoutMs: 90_000, intervalMs: 2000 });
          } catch (err) {
            throw new Error(`${(err as Error).message}\nqueries without data:\n${(await withoutData()).join('\n')}`);
          }
        });
      }

      if (profile !== 'metrics') {
        it(`keeps every error trace whole and ${KEEP_PERCENT} % of the OK ones (tail sampling)`, async () => {
          // Markers sent last: once they are kept, every trace before them has been decided.
          const markers = await runTraffic({ target: url.gateway, count: 3, concurrency: 3, mix: { ok: 0, error: 1, slow: 0 } });
          const errors = [...traffic.traceIds.error, ...markers.traceIds.error];
          await waitFor(async () => {
            for (const id of errors) {
              const spans = await jaegerTrace(id);
              if (new Set(spans.map((s) => s.service)).size < 3) return false;
            }
            return true;
          }, { what: `all ${errors.length} error traces (gateway, orders, payments) in Jaeger`, timeoutMs: 120_000, intervalMs: 1000 });
          const keptOk: string[] = [];
          for (const id of traffic.traceIds.ok) {
            const spans = await jaegerTrace(id);
            if (spans.length > 0) {
              // Kept: the sampler exports it in batches and Jaeger stores them as they come, so
              // poll (briefly) for the whole trace, then say what is wrong with it if it is not.
              // Delivery is at least once (an SDK export retried after a timeout, a Kafka batch
              // read again after a rebalance): a span stored twice has one span id, counted once.
              const once = (all: typeof spans) => [...new Map(all.map((s) => [s.spanId, s])).values()];
              let why = incompleteness(once(spans), 'ok');
              if (why) {
                await waitFor(async () => (why = incompleteness(once(await jaegerTrace(id)), 'ok')) === undefined, {
                  what: `kept OK trace ${id} whole in Jaeger`,
                  timeoutMs: 15_000,
                  intervalMs: 500,
                }).catch(() => undefined);
              }
              expect(why, `kept OK trace ${id}: what is wrong with it`).toBeUndefined();
              keptOk.push(id);
            }
          }
          const [low, high] = binomialBounds(traffic.traceIds.ok.length, KEEP_PERCENT / 100);
          console.log(`profile ${profile}: kept ${keptOk.length} of ${traffic.traceIds.ok.length} OK traces (expected ${low}..${high}), all ${errors.length} error traces`);
          expect(keptOk.length).toBeGreaterThanOrEqual(low);
          expect(keptOk.length).toBeLessThanOrEqual(high);
        }, 180_000);
      }
    });
  }
});
