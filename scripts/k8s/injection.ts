// What the operator's injection does, run for real without a kubelet: each service's pod as the
// operator's webhook mutates it, the environment a kubelet would give that pod's process, and
// the four services started natively with exactly that environment and an auto-instrumentation
// image's directory in place of the injected volume.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCapture, type Capture } from '../runtime/capture.js';
import { repoRoot } from '../runtime/components.js';
import { startKafka } from '../runtime/kafka.js';
import { postOrder, waitForOrderTrace } from '../runtime/orders.js';
import type { Span } from '../runtime/otlp.js';
import { SERVICE_NAMES, startServices, type ServiceName, type Services } from '../runtime/services.js';
import { waitFor } from '../runtime/wait.js';
import { parseTraceResponse } from '../traffic/run.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { ensureDefaultServiceAccount, parseObjects, podFromTemplate, renderKustomize, type K8sObject } from './manifests.js';

/** The version of `pkg` that `from` resolves under `root` (its own nested copy first, as Node looks it up). */
export function installedVersion(root: string, pkg: string, from?: string): string {
  const candidates = [
    ...(from ? [join(root, 'node_modules', from, 'node_modules', pkg, 'package.json')] : []),
    join(root, 'node_modules', pkg, 'package.json'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`${pkg} is not installed under ${root}`);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/**
 * Which Node.js auto-instrumentation image: 'lab' is the lab's own (images/autoinstrumentation-nodejs,
 * the versions of package-lock.json; what k8s/instrumentation.yaml injects), 'operator' the
 * operator release's default (its autoinstrumentation/nodejs recipe, @opentelemetry/api 1.9.0).
 */
export type AutoInstrumentationImage = 'lab' | 'operator';

/**
 * That image's /autoinstrumentation directory, assembled natively with npm by
 * scripts/k8s/autoinstrumentation-nodejs.sh (the steps of the lab's Dockerfile; cached by versions).
 */
export function autoInstrumentationDir(image: AutoInstrumentationImage): string {
  return execFileSync('bash', [join(repoRoot, 'scripts/k8s/autoinstrumentation-nodejs.sh'), image], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim().split('\n').pop()!;
}

/** Where the operator mounts the auto-instrumentation in every injected container. */
export const INJECTED_MOUNT = '/otel-auto-instrumentation-nodejs';

export interface InjectedPod {
  /** The service's Deployment, as k8s/ writes it. */
  deployment: K8sObject;
  /** The Pod the operator's webhook returned (server-side dry-run). */
  pod: K8sObject;
  /** What the operator added to the service's environment, resolved as a kubelet would. */
  env: Record<string, string>;
}

/**
 * Each service's pod as the operator's webhook mutates it in the lab's namespace, after applying
 * the namespace and the Instrumentation. On `cp` when given, else on a control plane of its own
 * (stopped before returning: what the pods get is all that is needed).
 */
export async function injectedPods(given?: ControlPlane): Promise<Record<ServiceName, InjectedPod>> {
  const cp = given ?? (await startControlPlane());
  try {
    const objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, 'otel-lab');
    await cp.apply(objects.filter((o) => o.kind === 'Instrumentation'));
    const out = {} as Record<ServiceName, InjectedPod>;
    for (const name of SERVICE_NAMES) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
      // Until the operator's cache has the Instrumentation, pods pass through unchanged.
      const pod = await waitForMutation(cp, podFromTemplate(deployment));
      out[name] = { deployment, pod, env: injectedEnv(deployment, pod, name) };
    }
    return out;
  } finally {
    if (!given) await cp.stop();
  }
}

/** The pod as the webhook returns it once the operator injects it (a dry-run, repeated). */
export function waitForMutation(cp: ControlPlane, pod: K8sObject): Promise<K8sObject> {
  return waitFor(
    async () => {
      const res = await cp.dryRun([pod], { output: 'yaml' });
      if (res.code !== 0) throw new Error(res.stderr);
      const mutated = parseObjects(res.stdout)[0];
      return mutated.spec.initContainers?.length ? mutated : undefined;
    },
    { what: `the operator to mutate the ${pod.metadata.name} pod`, timeoutMs: 30_000 },
  );
}

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

/**
 * Each service's environment as its injected pod's process gets it, on this machine: the
 * operator's variables with the mount replaced by `autoDir` and the collector Service by
 * `otlpEndpoint`. Nothing else about telemetry: no harness setting, no project SDK.
 */
export function localPodEnv(
  pods: Record<ServiceName, InjectedPod>,
  autoDir: string,
  otlpEndpoint: string,
): Record<ServiceName, Record<string, string>> {
  const collectorService = pods.gateway.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const local = (e: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(e).map(([k, v]) => [k, v.replaceAll(INJECTED_MOUNT, autoDir).replaceAll(collectorService, otlpEndpoint)]),
    );
  return Object.fromEntries(SERVICE_NAMES.map((s) => [s, local(pods[s].env)])) as Record<ServiceName, Record<string, string>>;
}

/**
 * The four services started natively as the injected pods would run them: the pod's env only
 * (localPodEnv) plus the app's own wiring (PORT, downstream URLs, Kafka) that k8s/ gives by
 * Service names. 'injected' mode: the harness adds no OTEL_* or NODE_OPTIONS of its own.
 */
export function startInjectedServices(opts: {
  env: Record<ServiceName, Record<string, string>>;
  kafkaBootstrap: string;
  name: string;
}): Promise<Services> {
  return startServices({ kafkaBootstrap: opts.kafkaBootstrap, mode: 'injected', name: opts.name, env: opts.env });
}

export interface InjectedOrder {
  orderId: string;
  /** The gateway's W3C traceresponse header, null when it sent none. */
  traceresponse: string | null;
  /** The order's trace, complete as an ok order makes it (waitForOrderTrace). */
  trace: Span[];
}

/** One order through the injected services, and its complete trace from the capture. */
export async function placeInjectedOrder(services: Services, capture: Capture): Promise<InjectedOrder> {
  const answer = await postOrder(services.gateway.url);
  if (answer.status !== 201) throw new Error(`POST /orders answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  // With the operator's default image the app's API calls are no-ops and no traceresponse comes
  // back (version-skew.test.ts): the trace is then the one the gateway's POST server span roots
  // (the only order of this run; the readiness checks' GET /health are traces of their own).
  const traceId =
    parseTraceResponse(answer.traceresponse)?.traceId ??
    (
      await capture.waitForSpans(
        (spans) => spans.find((s) => s.service === 'gateway' && s.kind === 'SERVER' && !s.parentSpanId && s.name.startsWith('POST')),
        'the gateway server span of POST /orders',
      )
    ).traceId;
  const trace = await waitForOrderTrace(capture, traceId, 'ok', 30_000);
  return { orderId: answer.body.orderId, traceresponse: answer.traceresponse, trace };
}

export interface InjectedRun extends InjectedOrder {
  autoDir: string;
  pods: Record<ServiceName, InjectedPod>;
  /** What each service was started with (localPodEnv), besides the app's wiring. */
  env: Record<ServiceName, Record<string, string>>;
  capture: Capture;
  services: Services;
}

/**
 * The whole fidelity run with one auto-instrumentation image: the operator mutates the pods
 * (or `pods` is given), the services start natively as those pods would run them (Kafka and a
 * capture collector of their own), and one order is placed and traced.
 */
export async function runInjected(
  image: AutoInstrumentationImage,
  name: string,
  opts: { pods?: Record<ServiceName, InjectedPod>; progress?: (step: string) => void } = {},
): Promise<InjectedRun> {
  const progress = opts.progress ?? (() => {});
  progress(`assembling the ${image} auto-instrumentation image's directory`);
  const autoDir = autoInstrumentationDir(image);
  const pods = opts.pods ?? (await injectedPods());
  progress('starting Kafka and a capture collector');
  const [kafka, capture] = await Promise.all([startKafka(`${name}-kafka`), startCapture(`${name}-capture`)]);
  const env = localPodEnv(pods, autoDir, capture.otlpHttp);
  progress('starting the four services with their pods\' environment');
  const services = await startInjectedServices({ env, kafkaBootstrap: kafka.bootstrap, name });
  progress('placing one order and waiting for its trace');
  return { autoDir, pods, env, capture, services, ...(await placeInjectedOrder(services, capture)) };
}
