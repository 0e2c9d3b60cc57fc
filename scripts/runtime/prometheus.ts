// A real Prometheus 3 (our Go build) with the OTLP receiver and the remote-write receiver on,
// listening on a free loopback port. Queried through its HTTP API, as Grafana would.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { artifact, repoRoot, runDir } from './components.js';
import { dockerRuntime, hostUser, image, prepareDocker, startContainer } from './docker.js';
import { freePort } from './ports.js';
import { startProcess, watch, type ManagedProcess } from './process.js';
import { httpOk, waitFor } from './wait.js';

/** One series of an instant query's answer: its labels (with __name__) and value. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** Instant query against a Prometheus base URL; rejects with Prometheus's own error. */
export async function instantQuery(prometheusUrl: string, promql: string): Promise<Series[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as any;
  if (body.status !== 'success') throw new Error(`Prometheus rejected ${promql}: ${body.error}`);
  return (body.data.result as any[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** Prometheus's own count of what its head block holds: GET /api/v1/status/tsdb. */
export interface TsdbStatus {
  /** headStats.numSeries: every series in memory (the head block), all metrics. */
  numSeries: number;
  chunkCount: number;
  /**
   * seriesCountByMetricName: the metrics with the most series, most first. Prometheus caches
   * these per-name counts for 30 s (tsdb/head.go, cardinalityCacheExpirationTime): right after
   * a change they can be stale, while numSeries is always current.
   */
  seriesByMetric: Record<string, number>;
}

/** The TSDB status API (headStats and series per metric name, `limit` metrics at most). */
export async function tsdbStatus(prometheusUrl: string, limit = 1000): Promise<TsdbStatus> {
  const res = await fetch(`${prometheusUrl}/api/v1/status/tsdb?limit=${limit}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as any;
  if (body.status !== 'success') throw new Error(`Prometheus ${prometheusUrl} /api/v1/status/tsdb: ${body.error}`);
  const d = body.data;
  return {
    numSeries: Number(d.headStats.numSeries),
    chunkCount: Number(d.headStats.chunkCount),
    seriesByMetric: Object.fromEntries((d.seriesCountByMetricName ?? []).map((x: any) => [x.name, Number(x.value)])),
  };
}

/** One exemplar: its labels (trace_id, span_id), value and time, with the series it belongs to. */
export interface Exemplar {
  seriesLabels: Record<string, string>;
  labels: Record<string, string>;
  value: number;
  timestamp: number;
}

/**
 * The exemplars of the series a selector matches over [start, end] (Unix seconds): GET
 * /api/v1/query_exemplars. Empty unless Prometheus runs with --enable-feature=exemplar-storage.
 */
export async function queryExemplars(prometheusUrl: string, promql: string, start: number, end: number): Promise<Exemplar[]> {
  const q = new URLSearchParams({ query: promql, start: String(start), end: String(end) });
  const res = await fetch(`${prometheusUrl}/api/v1/query_exemplars?${q}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as any;
  if (body.status !== 'success') throw new Error(`Prometheus rejected exemplar query ${promql}: ${body.error}`);
  return (body.data as any[]).flatMap((s) =>
    (s.exemplars as any[]).map((e) => ({ seriesLabels: s.seriesLabels, labels: e.labels, value: Number(e.value), timestamp: Number(e.timestamp) })),
  );
}

export interface Prometheus {
  url: string;
  /** Where OTLP/HTTP metrics go: Prometheus's native OTLP receiver. */
  otlpMetricsUrl: string;
  remoteWriteUrl: string;
  process: ManagedProcess;
  /** Instant query; rejects with Prometheus's own error message. */
  query(promql: string): Promise<Series[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  name?: string;
  /** The prometheus.yml content to run with (scrape jobs, OTLP translation settings). */
  configYaml?: string;
  extraArgs?: string[];
  /** Listen on this port instead of a free one (the native lab uses 9090). */
  port?: number;
}

export const PROMETHEUS_CONFIG = 'config/prometheus/prometheus.yml';

export interface ScrapeTarget {
  /** Becomes the `job` label (the target group's label in the targets file). */
  job: string;
  /** host:port serving /metrics */
  address: string;
}

/**
 * The lab's prometheus.yml with its file_sd paths (relative to the config file, as compose
 * mounts it) made absolute into `targetsDir`: the only difference between native and compose.
 */
export function prometheusConfigFor(targetsDir: string, otlp: Record<string, unknown> = {}): string {
  const config = parse(readFileSync(join(repoRoot, PROMETHEUS_CONFIG), 'utf8'));
  config.otlp = { ...config.otlp, ...otlp };
  for (const job of config.scrape_configs ?? []) {
    for (const sd of job.file_sd_configs ?? []) {
      sd.files = sd.files.map((f: string) => (isAbsolute(f) ? f : join(targetsDir, f)));
    }
  }
  return stringify(config);
}

/** Writes a file_sd targets file atomically (the watchers must never read half a file). */
export function writeTargetsFile(file: string, targets: ScrapeTarget[]): void {
  const groups = targets.map((t) => ({ targets: [t.address], labels: { job: t.job } }));
  writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
  renameSync(`${file}.tmp`, file);
}

/** Prometheus's command line in the lab: its config, its data, OTLP and remote-write receivers on. */
export function prometheusArgs(config: string, dataDir: string, port: number, extraArgs: string[] = []): string[] {
  return [
    `--config.file=${config}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-otlp-receiver',
    '--web.enable-remote-write-receiver',
    ...extraArgs,
  ];
}

/** Waits for a started Prometheus's /-/ready, then hands it out with a query client. */
export async function readyPrometheus(url: string, proc: ManagedProcess, what: string, timeoutMs: number): Promise<Prometheus> {
  await waitFor(() => httpOk(`${url}/-/ready`), { what: `${what} /-/ready (log: ${proc.logFile})`, timeoutMs, intervalMs: 100 });
  return {
    url,
    otlpMetricsUrl: `${url}/api/v1/otlp/v1/metrics`,
    remoteWriteUrl: `${url}/api/v1/write`,
    process: proc,
    query: (promql) => instantQuery(url, promql),
    stop: () => proc.stop(),
  };
}

export async function startPrometheus(opts: PrometheusOptions = {}): Promise<Prometheus> {
  if (dockerRuntime()) return startPrometheusInDocker(opts);
  const name = opts.name ?? 'prometheus';
  const dir = runDir(name);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, opts.configYaml ?? 'global:\n  scrape_interval: 15s\n');
  const port = opts.port ?? (await freePort());
  const proc = startProcess({
    name,
    command: artifact('prometheus'),
    args: prometheusArgs(config, join(dir, 'data'), port, opts.extraArgs),
    logFile: join(dir, 'prometheus.log'),
  });
  watch(proc);
  return readyPrometheus(`http://127.0.0.1:${port}`, proc, `Prometheus ${name}`, 20_000);
}

/** startPrometheus, in a container of the Prometheus image (OTLP and remote-write receivers on). */
export async function startPrometheusInDocker(opts: PrometheusOptions = {}): Promise<Prometheus> {
  await prepareDocker(); // first: it sets the image variables
  const name = opts.name ?? 'prometheus';
  const dir = runDir(name);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, opts.configYaml ?? 'global:\n  scrape_interval: 15s\n');
  const port = opts.port ?? (await freePort());
  const proc = await startContainer({
    name: `${name} (docker)`,
    image: image('PROMETHEUS_IMAGE'),
    command: prometheusArgs(config, join(dir, 'data'), port, opts.extraArgs),
    env: {},
    user: hostUser(),
    logFile: join(dir, 'prometheus.log'),
  });
  return readyPrometheus(`http://127.0.0.1:${port}`, proc, `Prometheus ${name} (docker)`, 30_000);
}
