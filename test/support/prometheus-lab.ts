// Lab 1's topology, natively: ONE Prometheus running config/prometheus/prometheus.yml and the
// three collector roles that feed it (collector/metrics-*.yaml), all on free loopback ports.
// Scrape targets are a file_sd targets file that both Prometheus (path 1) and the collector's
// prometheus receiver (path 3) watch; `setScrapeTargets` rewrites it, as compose's committed
// config/prometheus/targets/services.json does with compose service names.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startCollector, type Collector } from './collector.js';
import { repoRoot, runDir } from './components.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

export const PROMETHEUS_CONFIG = 'config/prometheus/prometheus.yml';

export interface ScrapeTarget {
  /** Becomes the `job` label (the target group's label in the targets file). */
  job: string;
  /** host:port serving /metrics */
  address: string;
}

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

export interface MetricsLab {
  prometheus: Prometheus;
  /** Paths 2 and 4: where cumulative services send OTLP metrics (OTLP/HTTP base URL). */
  otlp: Collector;
  /** Path 3: the collector scraping /metrics. */
  scraper: Collector;
  /** Path 5: where the delta-temporality service sends OTLP metrics. */
  delta: Collector;
  targetsFile: string;
  setScrapeTargets(targets: ScrapeTarget[]): void;
  /** Instant query returning every series with its labels (incl. __name__) and value. */
  query(promql: string): Promise<PromSeries[]>;
  /** Metric names that have a series with lab_path=<path>. */
  metricNames(labPath: string): Promise<string[]>;
}

/**
 * The lab's prometheus.yml with its file_sd paths (relative to the config file, as compose
 * mounts it) made absolute into `targetsDir`: the only difference between native and compose.
 */
export function prometheusConfigFor(targetsDir: string): string {
  const config = parse(readFileSync(join(repoRoot, PROMETHEUS_CONFIG), 'utf8'));
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

export async function startMetricsLab(): Promise<MetricsLab> {
  const targetsDir = runDir('lab1-targets');
  const targetsFile = join(targetsDir, 'targets', 'services.json');
  mkdirSync(join(targetsDir, 'targets'), { recursive: true });
  writeTargetsFile(targetsFile, []);

  const prometheus = await startPrometheus({ name: 'prometheus-lab1', configYaml: prometheusConfigFor(targetsDir) });
  const toPrometheus = {
    PROMETHEUS_REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
    PROMETHEUS_OTLP_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
  };
  const [otlp, scraper, delta] = await Promise.all([
    startCollector({ config: 'collector/metrics-otlp.yaml', env: toPrometheus }),
    startCollector({ config: 'collector/metrics-scraper.yaml', env: { ...toPrometheus, SCRAPE_TARGETS_FILE: targetsFile } }),
    startCollector({ config: 'collector/metrics-delta.yaml', env: toPrometheus }),
  ]);

  const query = async (promql: string): Promise<PromSeries[]> => {
    const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as any;
    if (body.status !== 'success') throw new Error(`Prometheus rejected ${promql}: ${body.error}`);
    return (body.data.result as any[]).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  };

  return {
    prometheus,
    otlp,
    scraper,
    delta,
    targetsFile,
    setScrapeTargets: (targets) => writeTargetsFile(targetsFile, targets),
    query,
    async metricNames(labPath) {
      const match = encodeURIComponent(`{lab_path="${labPath}"}`);
      const res = await fetch(`${prometheus.url}/api/v1/label/__name__/values?match[]=${match}`);
      const body = (await res.json()) as any;
      if (body.status !== 'success') throw new Error(`Prometheus: ${body.error}`);
      return body.data as string[];
    },
  };
}
