// Does what the operator injects actually work? Each demo service is started natively with
// the environment the operator's webhook wrote into its pod and nothing else of OpenTelemetry
// (downward-API values replaced by local ones, the collector Service by a local capture
// collector; the harness adds no OTEL_* or NODE_OPTIONS of its own), so NODE_OPTIONS requires
// the lab's own auto-instrumentation image's directory (images/autoinstrumentation-nodejs,
// assembled natively with the same steps as its Dockerfile). No project SDK code is loaded.
// The spans and metrics that reach the real collector are the proof.
// test/k8s/version-skew.test.ts runs the same with the operator's default image instead.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, versions, type MetricPoint } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { installedVersion, runInjected, type InjectedRun } from '../../scripts/k8s/injection.js';
import { spanCount } from '../../scripts/runtime/orders.js';
import { SERVICE_NAMES } from '../../scripts/runtime/services.js';

/** A running process's environment, as the kernel holds it (Linux). */
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
const telemetryOf = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('OTEL_') || k === 'NODE_OPTIONS'));

describe("the lab's auto-instrumentation image, run as the injected pods would run it", () => {
  useLab();
  let run: InjectedRun;

  beforeAll(async () => {
    run = await runInjected('lab', 'injected');
  }, 15 * 60_000);

  it("the pods get the lab's image, which brings the services' own @opentelemetry/api release (package-lock.json)", () => {
    expect(run.pods.gateway.pod.spec.initContainers[0].image).toBe(versions().LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE);
    expect(installedVersion(run.autoDir, '@opentelemetry/api')).toBe(installedVersion(repoRoot, '@opentelemetry/api'));
    expect(installedVersion(run.autoDir, '@opentelemetry/auto-instrumentations-node')).toBe(
      installedVersion(repoRoot, '@opentelemetry/auto-instrumentations-node'),
    );
  });

  it("each service ran with its pod's environment only: every OTEL_* and NODE_OPTIONS is the operator's, requiring the image's directory", () => {
    const entry = join(run.autoDir, 'autoinstrumentation.js');
    expect(existsSync(entry), entry).toBe(true);
    for (const s of SERVICE_NAMES) {
      // The pod's NODE_OPTIONS, its mount replaced by the image's directory: the only loader.
      expect(run.pods[s].env.NODE_OPTIONS, s).toBe(' --require /otel-auto-instrumentation-nodejs/autoinstrumentation.js');
      expect(run.env[s].NODE_OPTIONS, s).toBe(` --require ${entry}`);
      // What the process really got: no telemetry setting beyond the pod's, none missing.
      expect(telemetryOf(environOf(run.services[s].process.pid)), `${s}: OTEL_* and NODE_OPTIONS of the running process`).toEqual(run.env[s]);
    }
  });

  it('one order is traced across the four services, through HTTP and Kafka, with no SDK code of the project', () => {
    // waitForOrderTrace: one root, no orphan, exactly the spans per service of an ok order.
    expect(run.trace).toHaveLength(spanCount('ok'));
    expect(new Set(run.trace.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));
    expect(run.trace.some((s) => s.service === 'fulfillment' && s.kind === 'CONSUMER')).toBe(true);
    expect(run.trace.some((s) => s.service === 'orders' && s.kind === 'PRODUCER')).toBe(true);
  });

  it("the services' own OpenTelemetry API calls reach the injected SDK: the gateway answers with the trace id (traceresponse)", () => {
    // The services import @opentelemetry/api themselves; the injected SDK registers with the
    // image's copy. Were the image's API older, the services' calls would be no-ops and this
    // header missing (version-skew.test.ts).
    expect(run.traceresponse).toMatch(new RegExp(`^00-${run.trace[0].traceId}-[0-9a-f]{16}-01$`));
  });

  it("the services' own span attributes arrive: lab.order.id on the orders, payments and fulfillment spans", () => {
    const tagged = run.trace.filter((s) => s.attributes['lab.order.id'] !== undefined);
    expect(new Set(tagged.map((s) => s.service))).toEqual(new Set(['orders', 'payments', 'fulfillment']));
    for (const s of tagged) expect(s.attributes['lab.order.id'], `${s.service} ${s.name}`).toBe(run.orderId);
  });

  it("the services' own lab.* metrics arrive: requests counted by the gateway, the order published and fulfilled", async () => {
    const points = await run.capture.waitForMetrics((all) => {
      const find = (service: string, name: string, attrs: Record<string, unknown> = {}) =>
        all.find((p) => p.service === service && p.name === name && Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
      const found = [
        find('gateway', 'lab.http.server.requests', { 'http.route': '/orders', 'http.response.status_code': 201 }),
        find('orders', 'lab.orders.published'),
        find('fulfillment', 'lab.orders.fulfilled'),
      ];
      return found.every((p) => p !== undefined) && (found as MetricPoint[]);
    }, 'lab.http.server.requests (gateway POST /orders), lab.orders.published, lab.orders.fulfilled');
    for (const p of points) expect(p.value, `${p.service} ${p.name}`).toBeGreaterThanOrEqual(1);
    expect(points[0].resource).toMatchObject({ 'k8s.namespace.name': 'otel-lab', 'k8s.pod.name': 'gateway-local' });
  });

  it("the spans come from the SDK and instrumentations of the lab's image, at its versions", () => {
    expect(run.trace).toHaveLength(spanCount('ok'));
    // telemetry.sdk.version is @opentelemetry/core's version, as the image's sdk-node sees it.
    const core = installedVersion(run.autoDir, '@opentelemetry/core', '@opentelemetry/sdk-node');
    for (const s of run.trace) expect(s.resource['telemetry.sdk.version'], `${s.service} ${s.name}`).toBe(core);
    // Every span's instrumentation, at the version the image's auto-instrumentations-node resolves.
    const scopes = new Set(run.trace.map((s) => s.scope.name));
    expect([...scopes].sort()).toEqual([
      '@opentelemetry/instrumentation-express',
      '@opentelemetry/instrumentation-http',
      '@opentelemetry/instrumentation-kafkajs',
      '@opentelemetry/instrumentation-undici',
    ]);
    for (const s of run.trace) {
      expect(s.scope.version, `${s.service} ${s.name}`).toBe(installedVersion(run.autoDir, s.scope.name, '@opentelemetry/auto-instrumentations-node'));
    }
  });

  it('every span carries the k8s.* resource attributes the operator set, downward-API values resolved', () => {
    expect(run.trace).toHaveLength(spanCount('ok'));
    for (const s of run.trace) {
      expect(s.resource, `${s.service} ${s.name}`).toMatchObject({
        'service.name': s.service,
        'service.namespace': 'otel-lab',
        'k8s.namespace.name': 'otel-lab',
        'k8s.container.name': s.service,
        'k8s.pod.name': `${s.service}-local`,
        'k8s.node.name': 'local-node',
        'deployment.environment.name': 'otel-lab-kind',
      });
    }
  });

  it("auto-instrumented metrics arrive too, under the names the lab's dashboards query (http.server.request.duration)", async () => {
    const point = await run.capture.waitForMetrics(
      (points) => points.find((p) => p.service === 'gateway' && p.name === 'http.server.request.duration'),
      "the gateway's http.server.request.duration metric",
    );
    expect(point.resource).toMatchObject({ 'k8s.namespace.name': 'otel-lab', 'k8s.pod.name': 'gateway-local' });
  });
});
