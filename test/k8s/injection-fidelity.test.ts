// Does what the operator injects actually work? Each demo service is started natively with
// exactly the environment the operator's webhook wrote into its pod (downward-API values
// replaced by local ones, the collector Service by a local capture collector), and with
// NODE_OPTIONS requiring the auto-instrumentation directory assembled as the operator's
// autoinstrumentation-nodejs image of that release builds it. No project SDK code is loaded.
// The spans and metrics that reach the real collector are the proof.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startCapture, startKafka, useLab, waitFor, type Capture, type Span } from '../support/index.js';
import {
  ensureDefaultServiceAccount,
  parseObjects,
  podFromTemplate,
  renderKustomize,
  startControlPlane,
  type K8sObject,
} from '../support/k8s.js';
import { SERVICE_NAMES, startServices, telemetryEnv, type ServiceName, type Services } from '../support/services.js';

const MOUNT = '/otel-auto-instrumentation-nodejs';
const COLLECTOR_SERVICE = 'http://lb-collector:4318';

describe('the injected auto-instrumentation, run as the pod would run it', () => {
  useLab();
  let capture: Capture;
  let services: Services;
  let autoDir: string;
  let orderTrace: Span[];
  let traceresponse: string | null;

  beforeAll(async () => {
    autoDir = execFileSync('bash', [join(repoRoot, 'scripts/k8s/autoinstrumentation-nodejs.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim().split('\n').pop()!;
    const cp = await startControlPlane();
    const objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, 'otel-lab');
    await cp.apply(objects.filter((o) => o.kind === 'Instrumentation'));
    const env = {} as Record<ServiceName, Record<string, string>>;
    for (const name of SERVICE_NAMES) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
      const pod = await waitFor(
        async () => {
          const res = await cp.dryRun([podFromTemplate(deployment)], { output: 'yaml' });
          if (res.code !== 0) throw new Error(res.stderr);
          const out = parseObjects(res.stdout)[0];
          return out.spec.initContainers?.length ? out : undefined;
        },
        { what: `the operator to mutate the ${name} pod`, timeoutMs: 30_000 },
      );
      env[name] = injectedEnv(deployment, pod, name);
    }
    await cp.stop(); // what the pods get is known; the rest runs without the control plane

    const [kafka, cap] = await Promise.all([startKafka(), startCapture('k8s-injected')]);
    capture = cap;
    const local = (e: Record<string, string>) =>
      Object.fromEntries(
        Object.entries(e).map(([k, v]) => [
          k,
          v.replaceAll(MOUNT, autoDir).replaceAll(COLLECTOR_SERVICE, capture.otlpHttp),
        ]),
      );
    // Settings the harness would add from services/telemetry.env but the pod does not have: unset.
    const notInPod = (e: Record<string, string>) =>
      Object.fromEntries(Object.keys(telemetryEnv()).filter((k) => !(k in e)).map((k) => [k, '']));
    services = await startServices({
      otlpEndpoint: capture.otlpHttp,
      kafkaBootstrap: kafka.bootstrap,
      mode: 'zero-code',
      name: 'injected',
      env: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...notInPod(env[s]), ...local(env[s]) }])),
    });

    const res = await fetch(`${services.gateway.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lab-fault': 'none' },
      body: JSON.stringify({ customer: 'k8s-lab', item: 'teapot', quantity: 1 }),
    });
    expect(res.status, await res.text()).toBe(201);
    traceresponse = res.headers.get('traceresponse');
    // The gateway's server span is the root: its trace id leads to the rest of the order's trace.
    const root = await capture.waitForSpans(
      (spans) =>
        spans.find((s) => s.service === 'gateway' && s.kind === 'SERVER' && !s.parentSpanId && s.name.startsWith('POST')),
      'the gateway server span of POST /orders',
    );
    orderTrace = await capture.waitForSpans((spans) => {
      const trace = spans.filter((s) => s.traceId === root.traceId);
      return new Set(trace.map((s) => s.service)).size === 4 && trace;
    }, 'spans of all four services in the order\'s trace', 30_000);
  }, 15 * 60_000);

  it('one order is traced across the four services, through HTTP and Kafka, with no SDK code of the project', () => {
    expect(new Set(orderTrace.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));
    expect(orderTrace.some((s) => s.service === 'fulfillment' && s.kind === 'CONSUMER')).toBe(true);
    expect(orderTrace.some((s) => s.service === 'orders' && s.kind === 'PRODUCER')).toBe(true);
  });

  it('the services\' own OpenTelemetry API calls reach the injected SDK: the gateway answers with the trace id (traceresponse)', () => {
    // The services import @opentelemetry/api themselves; the injected SDK registers with the
    // image's copy. An app API newer than the SDK's is refused by the API's version check and
    // turns into no-ops: then this header is missing.
    expect(traceresponse).toMatch(new RegExp(`^00-${orderTrace[0].traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('the spans come from the SDK and instrumentations of the operator\'s image, at its versions', () => {
    // telemetry.sdk.version is @opentelemetry/core's version, as the image's sdk-node sees it.
    const core = packageVersion(autoDir, '@opentelemetry/core', '@opentelemetry/sdk-node');
    const http = packageVersion(autoDir, '@opentelemetry/instrumentation-http');
    expect(core).not.toBe(packageVersion(repoRoot, '@opentelemetry/core', '@opentelemetry/sdk-node'));
    for (const s of orderTrace) expect(s.resource['telemetry.sdk.version'], `${s.service} ${s.name}`).toBe(core);
    const httpSpans = orderTrace.filter((s) => s.scope.name === '@opentelemetry/instrumentation-http');
    expect(httpSpans.length).toBeGreaterThan(0);
    for (const s of httpSpans) expect(s.scope.version).toBe(http);
  });

  it('every span carries the k8s.* resource attributes the operator set, downward-API values resolved', () => {
    for (const s of orderTrace) {
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

  it('metrics reach the collector too, from the same instrumented services', async () => {
    const point = await capture.waitForMetrics(
      (points) => points.find((p) => p.service === 'gateway' && /^http\.server\.(request\.)?duration$/.test(p.name)),
      'the gateway\'s http.server duration metric',
    );
    expect(point.resource).toMatchObject({ 'k8s.namespace.name': 'otel-lab', 'k8s.pod.name': 'gateway-local' });
  });
});

/**
 * The environment the operator added to a service's container, as a kubelet would give it to
 * the process: downward-API fields replaced by local values, $(VAR) references expanded.
 * The app's own settings (PORT, downstream URLs, Kafka) are left to the native harness.
 */
function injectedEnv(deployment: K8sObject, pod: K8sObject, name: string): Record<string, string> {
  const own = new Set<string>(deployment.spec.template.spec.containers[0].env.map((e: any) => e.name));
  const container = pod.spec.containers.find((c: any) => c.name === name);
  const fields: Record<string, string> = {
    'metadata.name': `${name}-local`,
    'metadata.uid': '00000000-0000-4000-8000-000000000001',
    'spec.nodeName': 'local-node',
    'status.podIP': '127.0.0.1',
    'status.hostIP': '127.0.0.1',
  };
  const all: Record<string, string> = {};
  for (const e of container.env) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    if (e.valueFrom && !(path in fields)) throw new Error(`${name}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}`);
    const raw: string = path ? fields[path] : (e.value ?? '');
    // Kubernetes expands $(NAME) from variables defined earlier in the list.
    all[e.name] = raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => all[v] ?? m);
  }
  return Object.fromEntries(Object.entries(all).filter(([k]) => !own.has(k)));
}

/** Version of `pkg` as `from` resolves it (its own nested copy first, as Node looks it up). */
function packageVersion(root: string, pkg: string, from?: string): string {
  const candidates = [
    ...(from ? [join(root, 'node_modules', from, 'node_modules', pkg, 'package.json')] : []),
    join(root, 'node_modules', pkg, 'package.json'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`${pkg} is not installed under ${root}`);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}
