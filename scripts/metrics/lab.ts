// Lab 1's topology, natively: ONE Prometheus running config/prometheus/prometheus.yml and the
// three collector roles that feed it (collector/metrics-*.yaml), all on free loopback ports.
// Scrape targets are a file_sd targets file that both Prometheus (path 1) and the collector's
// prometheus receiver (path 3) watch; `setScrapeTargets` rewrites it, as compose's committed
// config/prometheus/targets/services.json does with compose service names.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DELTA_SERVICE } from './paths.js';
import { startCollector, type Collector } from '../runtime/collector.js';
import { scrape, sumOf } from '../runtime/prom-text.js';
import { waitFor } from '../runtime/wait.js';
import { runDir } from '../runtime/components.js';
import { startKafka, type Kafka } from '../runtime/kafka.js';
import {
  instantQuery,
  prometheusConfigFor,
  startPrometheus,
  writeTargetsFile,
  type Prometheus,
  type ScrapeTarget,
  type Series,
} from '../runtime/prometheus.js';
import { SERVICE_NAMES, startServices, type Services } from '../runtime/services.js';

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
  query(promql: string): Promise<Series[]>;
  /** Names of the metrics that have a series matching a selector, e.g. {lab_path="1-scrape"}. */
  metricNames(match: string): Promise<string[]>;
  /** Polls until the selector returns series (the paths deliver within an interval or two). */
  waitForSeries(promql: string, timeoutMs?: number): Promise<Series[]>;
  /** Polls until the selector returns exactly one series with this value; returns that series. */
  waitForValue(promql: string, expected: number, timeoutMs?: number): Promise<Series>;
}

export interface MetricsLabOptions {
  /**
   * Settings that replace the lab's `otlp:` ones, for a scenario that tries another, e.g.
   * { translation_strategy: 'NoUTF8EscapingWithSuffixes' }.
   */
  otlp?: Record<string, unknown>;
  /** Prometheus on this port instead of a free one (the native lab: 9090, as compose). */
  prometheusPort?: number;
}

/**
 * Sum of a metric's samples whose labels include `labels`, read from a collector's telemetry
 * endpoint; undefined when the collector exposes no such series (missing is not 0).
 */
export async function collectorMetric(collector: Collector, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sumOf(await scrape(collector.telemetryUrl), name, labels);
}

export async function startMetricsLab(opts: MetricsLabOptions = {}): Promise<MetricsLab> {
  const targetsDir = runDir('lab1-targets');
  const targetsFile = join(targetsDir, 'targets', 'services.json');
  mkdirSync(join(targetsDir, 'targets'), { recursive: true });
  writeTargetsFile(targetsFile, []);

  const prometheus = await startPrometheus({
    name: 'prometheus-lab1',
    configYaml: prometheusConfigFor(targetsDir, opts.otlp),
    port: opts.prometheusPort,
  });
  const toPrometheus = {
    PROMETHEUS_REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
    PROMETHEUS_OTLP_ENDPOINT: `${prometheus.url}/api/v1/otlp`,
  };
  const [otlp, scraper, delta] = await Promise.all([
    startCollector({ config: 'collector/metrics-otlp.yaml', env: toPrometheus }),
    startCollector({ config: 'collector/metrics-scraper.yaml', env: { ...toPrometheus, SCRAPE_TARGETS_FILE: targetsFile } }),
    startCollector({ config: 'collector/metrics-delta.yaml', env: toPrometheus }),
  ]);

  return {
    prometheus,
    otlp,
    scraper,
    delta,
    targetsFile,
    setScrapeTargets: (targets) => writeTargetsFile(targetsFile, targets),
    query: (promql) => instantQuery(prometheus.url, promql),
    async metricNames(match) {
      const res = await fetch(`${prometheus.url}/api/v1/label/__name__/values?match[]=${encodeURIComponent(match)}`);
      const body = (await res.json()) as any;
      if (body.status !== 'success') throw new Error(`Prometheus: ${body.error}`);
      return body.data as string[];
    },
    waitForSeries: (promql, timeoutMs = 20_000) =>
      waitFor(async () => {
        const found = await instantQuery(prometheus.url, promql);
        return found.length > 0 && found;
      }, { what: `series for ${promql}`, timeoutMs, intervalMs: 500 }),
    async waitForValue(promql, expected, timeoutMs = 20_000) {
      let last: Series[] = [];
      try {
        return await waitFor(async () => {
          last = await instantQuery(prometheus.url, promql);
          return last.length === 1 && last[0].value === expected && last[0];
        }, { what: `${promql} == ${expected}`, timeoutMs, intervalMs: 500 });
      } catch (err) {
        const seen = last.map((x) => `${JSON.stringify(x.labels)} = ${x.value}`).join('\n  ') || '(no series)';
        throw new Error(`${(err as Error).message}\nlast seen:\n  ${seen}`);
      }
    },
  };
}

export interface Lab1 extends MetricsLab {
  kafka: Kafka;
  services: Services;
}

/**
 * The whole of Lab 1: the topology above, Kafka, and the four real services (SDK mode), every
 * one exporting OTLP metrics each second and scraped every 2 s. The delta service exports
 * with delta temporality preference to the delta collector; the others to the OTLP tee.
 * `extraTargets` join the services in the targets file (the malformed-target scenario).
 */
export async function startLab1(opts: MetricsLabOptions & { extraTargets?: ScrapeTarget[] } = {}): Promise<Lab1> {
  const [lab, kafka] = await Promise.all([startMetricsLab(opts), startKafka('kafka-lab1')]);
  const services = await startServices({
    name: 'lab1',
    otlpEndpoint: lab.otlp.otlpHttp,
    kafkaBootstrap: kafka.bootstrap,
    env: {
      all: {
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        // Lab 1 is about metrics: no trace store runs, so no spans are exported.
        OTEL_TRACES_EXPORTER: 'none',
      },
      [DELTA_SERVICE]: {
        OTEL_EXPORTER_OTLP_ENDPOINT: lab.delta.otlpHttp,
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      },
    },
  });
  lab.setScrapeTargets([
    ...SERVICE_NAMES.map((s) => ({ job: s, address: new URL(services[s].url).host })),
    ...(opts.extraTargets ?? []),
  ]);
  return { ...lab, kafka, services };
}
