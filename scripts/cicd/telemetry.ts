// The SDK of a CI/CD run: a tracer and a meter exporting OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT
// (the exporters read it, and every other OTEL_EXPORTER_OTLP_* variable, themselves). Loaded only
// when that endpoint is set: without it nothing here is even imported (see reporter.ts).
//
// Resources, per the conventions: a trace resource per pipeline run (cicd.pipeline.*, vcs.*);
// metrics get the pipeline and the checkout but NOT cicd.pipeline.run.id (the conventions make
// the run resource opt-in for metrics: a new series per run). Each process is still its own
// service.instance.id, so that Prometheus sees one series per run and its counters never appear
// to reset; OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME override the rest.
import { randomUUID } from 'node:crypto';
import { trace, ROOT_CONTEXT, TraceFlags, type Context, type Meter, type Tracer } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { telemetryEnabled } from './enabled.js';
import type { Checkout } from './git.js';
import {
  ATTR_CICD_PIPELINE_NAME,
  ATTR_CICD_PIPELINE_RUN_ID,
  ATTR_SERVICE_NAME,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REF_HEAD_TYPE,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REPOSITORY_URL_FULL,
  VCS_REF_HEAD_TYPE_VALUE_BRANCH,
} from './semconv.js';

export const SCOPE = 'otel-lab-cicd';
/** The conventions' release the names come from (@opentelemetry/semantic-conventions 1.45.0 = semconv v1.45.0). */
export const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.45.0';
/** service.name unless OTEL_SERVICE_NAME says otherwise. */
export const DEFAULT_SERVICE_NAME = 'otel-lab-ci';

export interface RunIdentity {
  pipelineName: string;
  runId: string;
  checkout: Checkout;
}

export interface CicdTelemetry {
  tracer: Tracer;
  meter: Meter;
  /** The identity actually used (OTEL_RESOURCE_ATTRIBUTES may have set name or run id). */
  identity: RunIdentity;
  /** Flushes spans and metrics and stops; resolves even if the collector is unreachable (logs why). */
  shutdown(): Promise<void>;
}

/** The pipeline name and run id a run uses: OTEL_RESOURCE_ATTRIBUTES first, then the defaults. */
export function runIdentity(defaults: { pipelineName: string; checkout: Checkout }): RunIdentity {
  const env = detectResources({ detectors: [envDetector] }).attributes;
  return {
    pipelineName: String(env[ATTR_CICD_PIPELINE_NAME] ?? defaults.pipelineName),
    runId: String(env[ATTR_CICD_PIPELINE_RUN_ID] ?? randomUUID()),
    checkout: defaults.checkout,
  };
}

function vcsAttributes(c: Checkout): Record<string, string> {
  const out: Record<string, string> = {};
  if (c.repository) out[ATTR_VCS_REPOSITORY_NAME] = c.repository;
  if (c.url) out[ATTR_VCS_REPOSITORY_URL_FULL] = c.url;
  if (c.branch) {
    out[ATTR_VCS_REF_HEAD_NAME] = c.branch;
    out[ATTR_VCS_REF_HEAD_TYPE] = VCS_REF_HEAD_TYPE_VALUE_BRANCH;
  }
  if (c.revision) out[ATTR_VCS_REF_HEAD_REVISION] = c.revision;
  return out;
}

export function startCicdTelemetry(defaults: { pipelineName: string; checkout: Checkout }): CicdTelemetry {
  const identity = runIdentity(defaults);
  const env = detectResources({ detectors: [envDetector] });
  const common = { [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME, ...vcsAttributes(identity.checkout), [ATTR_CICD_PIPELINE_NAME]: identity.pipelineName };
  const traceResource = resourceFromAttributes({ ...common, [ATTR_CICD_PIPELINE_RUN_ID]: identity.runId }).merge(env);
  // Metrics never carry the run id, not even when OTEL_RESOURCE_ATTRIBUTES brings it (the runner
  // hands it to its steps); the process is the instance.
  const { [ATTR_CICD_PIPELINE_RUN_ID]: _runId, ...envForMetrics } = env.attributes;
  void _runId;
  const metricResource = resourceFromAttributes({ ...common, 'service.instance.id': randomUUID(), ...envForMetrics });

  // No endpoint, no export: the providers still hand out spans and instruments, which go nowhere.
  const on = telemetryEnabled();
  const tracerProvider = new TracerProvider({ resource: traceResource, spanProcessors: on ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] : [] });
  const meterProvider = new MeterProvider({
    resource: metricResource,
    // One export at the end of the run (shutdown), and once a minute for a long one.
    readers: on ? [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 60_000 })] : [],
  });
  return {
    tracer: tracerProvider.getTracer(SCOPE, undefined, { schemaUrl: SCHEMA_URL }),
    meter: meterProvider.getMeter(SCOPE, undefined, { schemaUrl: SCHEMA_URL }),
    identity,
    async shutdown() {
      const results = await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      for (const r of results) {
        if (r.status === 'rejected') console.error(`[cicd] could not export the run's telemetry to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}: ${r.reason}`);
      }
    },
  };
}

/** A context carrying a W3C traceparent's span as the (remote) parent; ROOT_CONTEXT if absent or malformed. */
export function parentFromTraceparent(traceparent: string | undefined): Context {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent?.trim() ?? '');
  if (!m) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16) & TraceFlags.SAMPLED, isRemote: true });
}

/** The W3C traceparent of a span, to hand to a child process. */
export function traceparentOf(span: { spanContext(): { traceId: string; spanId: string; traceFlags: number } }): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-0${c.traceFlags & 1}`;
}
