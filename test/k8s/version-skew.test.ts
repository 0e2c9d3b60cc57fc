// The version-skew trap. The operator's default Node.js image (autoinstrumentation-nodejs 0.71.0
// for operator v0.148.0) registers its SDK with @opentelemetry/api 1.9.0; the services are built
// with 1.10. An API refuses a registered global OLDER than itself, so everything the services do
// through their own API is a silent no-op — while every auto-instrumented span and metric still
// arrives, from the image's own packages, and nothing in the pod's logs says a thing.
// Same run as injection-fidelity.test.ts (the operator's real mutation, the services natively,
// a real collector), with that default image's directory, assembled from the operator release's
// own autoinstrumentation/nodejs recipe, in place of the lab's.
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type MetricPoint } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { installedVersion, runInjected, type InjectedRun } from '../../scripts/k8s/injection.js';
import { spanCount } from '../../scripts/runtime/orders.js';
import { SERVICE_NAMES } from '../../scripts/runtime/services.js';

const minor = (v: string) => Number(v.split('.')[1]);

describe("version skew: the operator's default Node.js image under services built with a newer @opentelemetry/api", () => {
  useLab();
  let run: InjectedRun;

  beforeAll(async () => {
    run = await runInjected('operator', 'skew');
  }, 15 * 60_000);

  it("the operator's default image brings an @opentelemetry/api older than the services' own", () => {
    const injected = installedVersion(run.autoDir, '@opentelemetry/api');
    const app = installedVersion(repoRoot, '@opentelemetry/api');
    expect(injected.split('.')[0], 'same major: the API would otherwise not even share a global').toBe(app.split('.')[0]);
    expect(minor(injected), `image ${injected}, services ${app}`).toBeLessThan(minor(app));
  });

  it("auto-instrumented spans still arrive: the order traced across the four services, from the image's SDK", () => {
    // The same 14 spans as with the lab's image: the services' own API calls only add attributes
    // and the traceresponse header, they start no span, so their being no-ops changes no count.
    expect(run.trace).toHaveLength(spanCount('ok'));
    expect(new Set(run.trace.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));
    expect(run.trace.some((s) => s.service === 'fulfillment' && s.kind === 'CONSUMER')).toBe(true);
    const core = installedVersion(run.autoDir, '@opentelemetry/core', '@opentelemetry/sdk-node');
    expect(core).not.toBe(installedVersion(repoRoot, '@opentelemetry/core', '@opentelemetry/sdk-node'));
    for (const s of run.trace) expect(s.resource['telemetry.sdk.version'], `${s.service} ${s.name}`).toBe(core);
  });

  it("with the operator's default image, the app's own OpenTelemetry API calls are silent no-ops (API 1.9 injected vs 1.10 in the app)", async () => {
    // Spans: the gateway finds no active span to answer traceresponse with; lab.order.id is never set.
    expect(run.traceresponse).toBeNull();
    expect(run.trace).toHaveLength(spanCount('ok'));
    const labAttributes = run.trace.flatMap((s) => Object.keys(s.attributes).filter((k) => k.startsWith('lab.')));
    expect(labAttributes).toEqual([]);
    // Metrics: wait for two exports carrying the gateway's POST /orders duration (the SDK collects
    // every instrument of a process in each export) and for every service's HTTP metrics, then
    // look for the services' own lab.* instruments among everything that arrived.
    const exportsOfOrder = (points: MetricPoint[]) =>
      new Set(
        points
          .filter((p) => p.service === 'gateway' && /^http\.server\.(request\.)?duration$/.test(p.name) && p.attributes['http.route'] === '/orders')
          .map((p) => p.timeUnixNano),
      ).size;
    const points = await run.capture.waitForMetrics(
      (all) =>
        exportsOfOrder(all) >= 2 &&
        SERVICE_NAMES.every((s) => all.some((p) => p.service === s && p.name.startsWith('http.server'))) &&
        all,
      "two exports of the gateway's POST /orders duration, and HTTP metrics from all four services",
    );
    expect(points.filter((p) => p.name.startsWith('lab.')).map((p) => `${p.service} ${p.name}`)).toEqual([]);
  });

  it("the default image also names HTTP metrics the old way: http.server.duration, not the http.server.request.duration the lab's dashboards query", async () => {
    const names = await run.capture.waitForMetrics(
      (all) => {
        const gateway = new Set(all.filter((p) => p.service === 'gateway' && p.name.startsWith('http.server')).map((p) => p.name));
        return gateway.size > 0 && gateway;
      },
      "the gateway's HTTP server metrics",
    );
    expect([...names]).toEqual(['http.server.duration']);
  });
});
