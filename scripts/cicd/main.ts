// Lab 4 — CI/CD observability. Starts the stores (Prometheus, Jaeger, the cicd collector), runs
// a pipeline under the lab's reporter, then prints the report read back from Jaeger and
// Prometheus: slowest tasks and tests, slow tests and the revision that made them slow, flaky
// tests and where they started.
//
//   npm run lab:cicd                       the fixture suite on two revisions of a scratch repo
//   npm run lab:cicd -- --own test/foundation   the lab's own pipeline (pipeline.yaml), tests narrowed
//   npm run lab:cicd -- --github           a GitHub workflow's webhooks (github-events/) through the receiver
//   npm run lab:cicd -- --compose          against `docker compose --profile cicd` (nothing started)
//   npm run lab:cicd -- --report-only --jaeger URL --prometheus URL [--service S]
//   options: --slow-ms 500  --since-min 1440  --json
import { parseArgs } from 'node:util';
import { stopAll } from '../runtime/process.js';
import { instantQuery } from '../runtime/prometheus.js';
import { waitFor } from '../runtime/wait.js';
import { createFixtureRepo, runSuiteUnderReporter } from './demo.js';
import { formatReport } from './format.js';
import { earliestRunMs, GITHUB_SERVICE_NAME, sendDeliveries } from './github.js';
import { startCicdLab } from './lab.js';
import { readPipelineFile, runPipeline } from './pipeline.js';
import { cicdReport, DEFAULT_SERVICES, readRuns, type CicdReport } from './report.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    own: { type: 'boolean', default: false },
    github: { type: 'boolean', default: false },
    webhook: { type: 'string' },
    compose: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    jaeger: { type: 'string' },
    prometheus: { type: 'string' },
    otlp: { type: 'string' },
    service: { type: 'string', multiple: true },
    'slow-ms': { type: 'string', default: '500' },
    'since-min': { type: 'string', default: '1440' },
    pipeline: { type: 'string', default: 'scripts/cicd/pipeline.yaml' },
    install: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const step = (msg: string) => console.error(`[lab:cicd] ${msg}`);
function fail(message: string): never {
  console.error(`lab:cicd: ${message}\nusage: npm run lab:cicd -- [--own [test paths]] [--compose] [--report-only --jaeger URL --prometheus URL] [--slow-ms N] [--since-min N] [--json]`);
  process.exit(2);
}
function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, not "${text}"`);
  return n;
}

async function main() {
  if (args.help) fail('help');
  const slowMs = positive('slow-ms', args['slow-ms']!);
  let sinceMs = Date.now() - positive('since-min', args['since-min']!) * 60_000;
  const services = args.service ?? (args.github ? [GITHUB_SERVICE_NAME] : DEFAULT_SERVICES);
  let urls: { jaeger: string; prometheus: string; otlp: string; webhook: string };

  if (args['report-only'] || args.compose) {
    urls = {
      jaeger: args.jaeger ?? 'http://localhost:16686',
      prometheus: args.prometheus ?? 'http://localhost:9090',
      otlp: args.otlp ?? `http://localhost:${process.env.CICD_OTLP_HTTP_PORT ?? 4319}`,
      webhook: args.webhook ?? `http://localhost:${process.env.CICD_GITHUB_WEBHOOK_PORT ?? 19418}/events`,
    };
  } else {
    step('starting Prometheus, Jaeger and the cicd collector (collector/cicd.yaml) …');
    const lab = await startCicdLab();
    urls = { jaeger: lab.jaeger.queryUrl, prometheus: lab.prometheus.url, otlp: lab.otlpEndpoint, webhook: `http://${lab.collector.listen.GITHUB_WEBHOOK_LISTEN}/events` };
    step(`OTLP in: ${urls.otlp}   Jaeger: ${urls.jaeger}   Prometheus: ${urls.prometheus}`);
  }

  const t0 = Date.now();
  const expectedTraces: string[] = [];
  if (!args['report-only']) {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = urls.otlp;
    if (args.github) {
      const statuses = await sendDeliveries(urls.webhook, process.env.GITHUB_WEBHOOK_SECRET ?? 'otel-lab-webhook-secret');
      step(`sent ${statuses.length} GitHub webhook deliveries (scripts/cicd/github-events/) to ${urls.webhook}`);
      sinceMs = Math.min(sinceMs, earliestRunMs() - 60_000);
    } else if (args.own) {
      const pipeline = readPipelineFile(args.pipeline!);
      step(`running the lab's own pipeline (${args.pipeline}${positionals.length ? `, tests: ${positionals.join(' ')}` : ''}) …`);
      const result = await runPipeline(pipeline, { testArgs: positionals, withOptional: args.install, log: step });
      step(`pipeline ${result.failed ? 'FAILED' : 'passed'} in ${(result.durationMs / 1000).toFixed(1)} s: trace ${result.traceId}`);
      expectedTraces.push(result.traceId);
    } else {
      const repo = createFixtureRepo();
      repo.setReportWork(20);
      const fast = repo.commit('report: render from the cache');
      step(`revision ${fast.slice(0, 8)} (report renders in 20 ms): running the fixture suite under the reporter …`);
      expectedTraces.push((await runSuiteUnderReporter(repo.dir, { endpoint: urls.otlp })).traceId);
      repo.setReportWork(900);
      const slow = repo.commit('report: re-read every order (the slowdown)');
      step(`revision ${slow.slice(0, 8)} (report renders in 900 ms): running it again …`);
      expectedTraces.push((await runSuiteUnderReporter(repo.dir, { endpoint: urls.otlp })).traceId);
    }
    // The stores are fed asynchronously: wait until Jaeger holds the runs just made.
    await waitFor(async () => {
      const runs = await readRuns(urls.jaeger, services, args.github ? sinceMs : t0 - 60_000);
      return args.github ? runs.length >= 3 : expectedTraces.every((id) => runs.some((r) => r.traceId === id));
    }, { what: `the pipeline traces ${expectedTraces.join(', ') || '(GitHub workflow runs)'} in Jaeger`, timeoutMs: 30_000, intervalMs: 300 });
    // ... and Prometheus holds the runs' metrics (the GitHub receiver makes none).
    if (!args.github) {
      await waitFor(async () => (await instantQuery(urls.prometheus, 'cicd_pipeline_run_duration_seconds_count')).length >= expectedTraces.length, {
        what: 'the runs in Prometheus (cicd_pipeline_run_duration_seconds_count)',
        timeoutMs: 30_000,
      });
    }
  }

  const report: CicdReport = await cicdReport({ jaegerUrl: urls.jaeger, prometheusUrl: args.github ? undefined : urls.prometheus, services, sinceMs, slowMs });
  console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
}

main()
  .catch((err) => {
    console.error(`lab:cicd: ${err instanceof Error ? err.message : err}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
