// A real Kubernetes control plane on loopback for Lab 3's tests: etcd, kube-apiserver and the
// OpenTelemetry Operator (built by scripts/k8s/control-plane.sh), with the operator's CRDs
// installed and its webhooks registered by URL, so the lab's manifests meet the real API
// server, its Pod Security admission and the operator's own defaulting, validating and
// pod-mutating webhooks. No kubelet or scheduler: objects are stored and admitted, pods never run.
// Only the project's own kubectl is used, with a kubeconfig and caches of this run: never a
// kubectl or a ~/.kube already on the machine.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { startCapture, type Capture } from '../runtime/capture.js';
import { readEnvFile, repoRoot, runDir } from '../runtime/components.js';
import type { Span } from '../runtime/otlp.js';
import { startKafka } from '../runtime/kafka.js';
import { freePort } from '../runtime/ports.js';
import { startProcess, watch, type ManagedProcess } from '../runtime/process.js';
import { SERVICE_NAMES, startServices, telemetryEnv, type ServiceName, type Services } from '../runtime/services.js';
import { waitFor } from '../runtime/wait.js';

/** Where the lab's builds are cached (same rule as scripts/build/lib.sh). */
export const labCache =
  process.env.OTEL_LAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'otel-lab');

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [key: string]: any;
};

export type ControlPlaneArtifacts = Record<
  'etcd' | 'kube-apiserver' | 'kubectl' | 'operator' | 'operator-crds' | 'operator-versions' | 'operator-nodejs' | 'operator-webhooks',
  string
>;

let built: Promise<ControlPlaneArtifacts> | undefined;

/**
 * Builds (or finds in the cache) the control plane's binaries. Cold: ~7 min on 2 cores, with
 * progress on stderr; cached: instant. Rejects with the script's own message (e.g. what to install).
 */
export function controlPlaneArtifacts(): Promise<ControlPlaneArtifacts> {
  built ??= new Promise((resolve, reject) => {
    const script = join(repoRoot, 'scripts', 'k8s', 'control-plane.sh');
    const child = spawn('bash', [script, 'build'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d); // a cold build shows its progress
    });
    child.once('error', (e) => reject(new Error(`could not run ${script}: ${e.message}`)));
    child.once('exit', (code) => {
      if (code !== 0) {
        const tail = err.trim().split('\n').slice(-8).join('\n');
        return reject(new Error(`the Kubernetes control plane could not be built (${script}):\n${tail}`));
      }
      const paths = Object.fromEntries(
        out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      resolve(paths as ControlPlaneArtifacts);
    });
  });
  return built;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  server: string;
  kubeconfig: string;
  /** The environment every kubectl call gets: this run's kubeconfig and caches, no kuberc. */
  kubectlEnv: Record<string, string>;
  artifacts: ControlPlaneArtifacts;
  /** Runs the project's kubectl; rejects (with stderr) on a non-zero exit unless `allowFail`. */
  kubectl(args: string[], opts?: { input?: string; allowFail?: boolean }): Promise<KubectlResult>;
  /** Creates (for real) or updates objects, server-side. */
  apply(objects: K8sObject[] | string): Promise<void>;
  /** Dry-run on the server with strict field validation; resolves with the server's answer. */
  dryRun(objects: K8sObject[] | string, opts?: { output?: 'yaml' | 'name' }): Promise<KubectlResult>;
  list(kind: string, namespace: string): Promise<K8sObject[]>;
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

const toYaml = (objects: K8sObject[] | string) =>
  typeof objects === 'string' ? objects : objects.map((o) => stringify(o)).join('---\n');

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o): o is K8sObject => o && typeof o === 'object' && 'kind' in o)
    .flatMap((o) => (o.kind === 'List' ? (o.items as K8sObject[]) : [o]));
}

export async function startControlPlane(opts: { operator?: boolean } = {}): Promise<ControlPlane> {
  const withOperator = opts.operator ?? true;
  const artifacts = await controlPlaneArtifacts();
  const started = Date.now();
  const dir = runDir('k8s');
  const certs = makeCertificates(join(dir, 'pki'));
  const processes: ManagedProcess[] = [];
  const track = (p: ManagedProcess) => (watch(p), processes.push(p), p);

  // Free loopback ports only: another etcd or API server may hold 2379/6443 on this machine.
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcd = track(
    startProcess({
      name: 'etcd',
      command: artifacts.etcd,
      logFile: join(dir, 'etcd.log'),
      args: [
        '--name=otel-lab',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=otel-lab=http://127.0.0.1:${etcdPeer}`,
        // A test store: losing it on a crash costs nothing, fsync costs seconds.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    }),
  );
  // The member name proves the etcd answering is the one started here.
  await waitFor(
    async () => {
      const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && ((await res.json()) as { health: string }).health === 'true';
    },
    { what: `etcd on ${etcdUrl}`, timeoutMs: 20_000 },
  );

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserver = track(
    startProcess({
      name: 'kube-apiserver',
      command: artifacts['kube-apiserver'],
      logFile: join(dir, 'kube-apiserver.log'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver')}`,
        `--tls-cert-file=${certs.serverCert}`,
        `--tls-private-key-file=${certs.serverKey}`,
        `--client-ca-file=${certs.caCert}`,
        `--token-auth-file=${certs.tokens}`,
        `--service-account-key-file=${certs.saPublic}`,
        `--service-account-signing-key-file=${certs.saPrivate}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        // As on kind and most clusters: whether a privileged pod may run is Pod Security's call.
        '--allow-privileged=true',
        // No kube-proxy or endpoints to keep: there is no node.
        '--endpoint-reconciler-type=none',
      ],
    }),
  );
  await waitFor(
    async () => {
      const res = await getWithCa(`${server}/readyz`, certs);
      return res === 'ok';
    },
    { what: `kube-apiserver /readyz on ${server}`, timeoutMs: 60_000 },
  );

  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'otel-lab', cluster: { server, 'certificate-authority': certs.caCert } }],
      users: [{ name: 'admin', user: { token: certs.adminToken } }],
      contexts: [{ name: 'otel-lab', context: { cluster: 'otel-lab', user: 'admin' } }],
      'current-context': 'otel-lab',
    }),
  );
  const kubectlEnv = {
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(labCache, 'k8s', 'kubectl-cache'),
    KUBERC: 'off',
    // kubectl falls back to $HOME/.kube for anything not set above: point it at this run.
    HOME: dir,
  };

  const kubectl: ControlPlane['kubectl'] = (args, o = {}) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        artifacts.kubectl,
        args,
        { env: { PATH: process.env.PATH ?? '', ...kubectlEnv }, maxBuffer: 64 << 20 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          if (code !== 0 && !o.allowFail) {
            reject(new Error(`kubectl ${args.join(' ')} failed (exit ${code}):\n${stderr.trim()}`));
          } else resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(o.input ?? '');
    });

  const cp: ControlPlane = {
    server,
    kubeconfig,
    kubectlEnv,
    artifacts,
    kubectl,
    async apply(objects) {
      await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: toYaml(objects) });
    },
    dryRun: (objects, o = {}) =>
      kubectl(['apply', '--dry-run=server', '--validate=strict', '-o', o.output ?? 'name', '-f', '-'], {
        input: toYaml(objects),
        allowFail: true,
      }),
    async list(kind, namespace) {
      return JSON.parse((await kubectl(['get', kind, '-n', namespace, '-o', 'json'])).stdout).items;
    },
    processes,
    async stop() {
      for (const p of [...processes].reverse()) await p.stop();
    },
  };

  // The operator's CRDs, straight from its release.
  await kubectl(['apply', '--server-side', '-f', artifacts['operator-crds']]);
  // (`kubectl wait` errors out on a CRD whose status is not written yet: poll instead.)
  await waitFor(
    async () => {
      const crds: K8sObject[] = JSON.parse((await kubectl(['get', 'crd', '-o', 'json'])).stdout).items;
      return crds.length > 0 && crds.every((c) => c.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True'));
    },
    { what: "the operator's CRDs to be Established", timeoutMs: 60_000 },
  );

  if (withOperator) await startOperator(cp, dir, certs, track);
  process.stderr.write(
    `[k8s] control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${server}` +
      `${withOperator ? ' + operator' : ''} (logs: ${dir})\n`,
  );
  return cp;
}

/** The operator, out of cluster, its webhooks registered by URL with this run's CA. */
async function startOperator(
  cp: ControlPlane,
  dir: string,
  certs: Certificates,
  track: (p: ManagedProcess) => ManagedProcess,
) {
  const [webhookPort, probePort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  // controller-runtime reads its serving certificate from $TMPDIR/k8s-webhook-server/serving-certs.
  const tmp = join(dir, 'operator-tmp');
  const servingCerts = join(tmp, 'k8s-webhook-server', 'serving-certs');
  mkdirSync(servingCerts, { recursive: true });
  copyFileSync(certs.serverCert, join(servingCerts, 'tls.crt'));
  copyFileSync(certs.serverKey, join(servingCerts, 'tls.key'));
  track(
    startProcess({
      name: 'opentelemetry-operator',
      command: cp.artifacts.operator,
      logFile: join(dir, 'operator.log'),
      env: { ...cp.kubectlEnv, TMPDIR: tmp },
      args: [
        `--webhook-port=${webhookPort}`,
        `--health-probe-addr=127.0.0.1:${probePort}`,
        `--metrics-addr=127.0.0.1:${metricsPort}`,
        '--enable-leader-election=false',
        '--zap-log-level=info',
      ],
    }),
  );
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${probePort}/readyz`, { signal: AbortSignal.timeout(1000) })).ok,
    { what: `the operator's /readyz on 127.0.0.1:${probePort}`, timeoutMs: 60_000 },
  );

  // Its own webhook manifests (config/webhook/manifests.yaml of the release), with the in-cluster
  // Service replaced by this operator's URL. sideEffects: None lets dry-run requests call them.
  const caBundle = readFileSync(certs.caCert).toString('base64');
  const configs = parseObjects(readFileSync(cp.artifacts['operator-webhooks'], 'utf8')).map((cfg) => ({
    ...cfg,
    metadata: { name: `otel-lab-${cfg.metadata.name}` },
    webhooks: cfg.webhooks.map((w: any) => ({
      ...w,
      sideEffects: 'None',
      clientConfig: { url: `https://127.0.0.1:${webhookPort}${w.clientConfig.service.path}`, caBundle },
    })),
  }));
  await cp.apply(configs);
}

interface Certificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
  saPublic: string;
  saPrivate: string;
  tokens: string;
  adminToken: string;
}

/** A throw-away CA, one serving certificate for 127.0.0.1, the service-account key pair, a token file. */
function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSyncQuiet('openssl', args);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=otel-lab-test-ca');
  openssl(
    'req', '-x509', ...ec, '-keyout', f('server.key'), '-out', f('server.crt'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'extendedKeyUsage=serverAuth',
  );
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('sa.key'));
  openssl('pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub'));
  const adminToken = `otel-lab-${Math.random().toString(36).slice(2)}`;
  // token,user,uid,"groups": system:masters may do anything, RBAC included.
  writeFileSync(f('tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`);
  return {
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    saPublic: f('sa.pub'),
    saPrivate: f('sa.key'),
    tokens: f('tokens.csv'),
    adminToken,
  };
}

function execFileSyncQuiet(command: string, args: string[]) {
  const { status, stderr, error } = spawnSync(command, args, { encoding: 'utf8' });
  if (error) throw new Error(`${command} not found: install OpenSSL (Debian: apt-get install openssl)`);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${stderr}`);
}

/** GET over HTTPS trusting only this run's CA (fetch cannot be given a CA); resolves the body. */
function getWithCa(url: string, certs: Certificates): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(certs.caCert), headers: { authorization: `Bearer ${certs.adminToken}` }, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      },
    );
    req.once('error', reject);
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The lab's manifests directory. */
export const k8sDir = join(repoRoot, 'k8s');

/** What `kubectl apply -k <dir>` would send: kustomize's rendering by the project's kubectl. */
export async function renderKustomize(dir = k8sDir): Promise<K8sObject[]> {
  const { kubectl } = await controlPlaneArtifacts();
  const env = { PATH: process.env.PATH ?? '', KUBERC: 'off', HOME: runDir('kustomize') };
  return new Promise((resolve, reject) =>
    execFile(kubectl, ['kustomize', dir], { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`kubectl kustomize ${dir} failed:\n${stderr}`)) : resolve(parseObjects(stdout)),
    ),
  );
}

/** `Kind/name` (namespace-qualified when namespaced), as tests and messages name objects. */
export const idOf = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/**
 * The Pod a workload would create: the operator's webhook mutates Pods, not Deployments, so a
 * template is wrapped in a Pod to see what the operator does to it.
 */
export function podFromTemplate(workload: K8sObject): K8sObject {
  const template = workload.spec.template ?? workload.spec.jobTemplate?.spec.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, name: workload.metadata.name, namespace: workload.metadata.namespace },
    spec: template.spec,
  };
}

/** Creates a namespace's `default` ServiceAccount (no controller-manager here does it). */
export async function ensureDefaultServiceAccount(cp: ControlPlane, namespace: string) {
  await cp.apply([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }]);
}

/**
 * A namespace that ENFORCES Pod Security "restricted" (the lab's own only warns, see
 * k8s/namespace.yaml), with its `default` ServiceAccount, to check pods against that standard.
 */
export async function restrictedNamespace(cp: ControlPlane, name = 'restricted-check'): Promise<string> {
  await cp.apply([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  ]);
  await ensureDefaultServiceAccount(cp, name);
  return name;
}

/** The same object in another namespace (to check it against another namespace's rules). */
export function inNamespace(o: K8sObject, namespace: string): K8sObject {
  return { ...structuredClone(o), metadata: { ...structuredClone(o.metadata), namespace } };
}

/** scripts/k8s/versions.env as a map (Lab 3's releases and image tags, read by its scripts too). */
export function k8sVersions(): Record<string, string> {
  return readEnvFile('scripts/k8s/versions.env');
}

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
  /** The Pod the operator's webhook returned (server-side dry-run). */
  pod: K8sObject;
  /** What the operator added to the service's environment, resolved as a kubelet would. */
  env: Record<string, string>;
}

/**
 * Each service's pod as the operator's webhook mutates it in the lab's namespace, on a control
 * plane of its own (stopped before returning: what the pods get is all that is needed).
 */
export async function injectedPods(): Promise<Record<ServiceName, InjectedPod>> {
  const cp = await startControlPlane();
  try {
    const objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, 'otel-lab');
    await cp.apply(objects.filter((o) => o.kind === 'Instrumentation'));
    const out = {} as Record<ServiceName, InjectedPod>;
    for (const name of SERVICE_NAMES) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
      // Until the operator's cache has the Instrumentation, pods pass through unchanged.
      const pod = await waitFor(
        async () => {
          const res = await cp.dryRun([podFromTemplate(deployment)], { output: 'yaml' });
          if (res.code !== 0) throw new Error(res.stderr);
          const mutated = parseObjects(res.stdout)[0];
          return mutated.spec.initContainers?.length ? mutated : undefined;
        },
        { what: `the operator to mutate the ${name} pod`, timeoutMs: 30_000 },
      );
      out[name] = { pod, env: injectedEnv(deployment, pod, name) };
    }
    return out;
  } finally {
    await cp.stop();
  }
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
 * The four services started natively as the injected pods would run them: exactly the
 * operator's environment, the mount replaced by `autoDir` and the collector Service by the
 * capture. No project SDK code is loaded (zero-code mode with the injected NODE_OPTIONS).
 */
export function startInjectedServices(opts: {
  pods: Record<ServiceName, InjectedPod>;
  autoDir: string;
  capture: Capture;
  kafkaBootstrap: string;
  name: string;
}): Promise<Services> {
  const collectorService = k8sCollectorEndpoint(opts.pods);
  const local = (e: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(e).map(([k, v]) => [
        k,
        v.replaceAll(INJECTED_MOUNT, opts.autoDir).replaceAll(collectorService, opts.capture.otlpHttp),
      ]),
    );
  // Settings the harness would add from services/telemetry.env but the pod does not have: unset.
  const notInPod = (e: Record<string, string>) =>
    Object.fromEntries(Object.keys(telemetryEnv()).filter((k) => !(k in e)).map((k) => [k, '']));
  return startServices({
    otlpEndpoint: opts.capture.otlpHttp,
    kafkaBootstrap: opts.kafkaBootstrap,
    mode: 'zero-code',
    name: opts.name,
    env: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...notInPod(opts.pods[s].env), ...local(opts.pods[s].env) }])),
  });
}

const k8sCollectorEndpoint = (pods: Record<ServiceName, InjectedPod>) => pods.gateway.env.OTEL_EXPORTER_OTLP_ENDPOINT;

export interface PlacedOrder {
  orderId: string;
  /** The gateway's W3C traceresponse header, null when it sent none. */
  traceresponse: string | null;
  /** Every captured span of the order's trace, once all four services have sent theirs. */
  trace: Span[];
}

/** POSTs one order to the gateway and waits for its trace, from all four services, in the capture. */
export async function placeOrder(services: Services, capture: Capture): Promise<PlacedOrder> {
  const res = await fetch(`${services.gateway.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-lab-fault': 'none' },
    body: JSON.stringify({ customer: 'k8s-lab', item: 'teapot', quantity: 1 }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${body}`);
  // The gateway's server span is the root: its trace id leads to the rest of the order's trace.
  const root = await capture.waitForSpans(
    (spans) => spans.find((s) => s.service === 'gateway' && s.kind === 'SERVER' && !s.parentSpanId && s.name.startsWith('POST')),
    'the gateway server span of POST /orders',
  );
  const trace = await capture.waitForSpans(
    (spans) => {
      const all = spans.filter((s) => s.traceId === root.traceId);
      return new Set(all.map((s) => s.service)).size === SERVICE_NAMES.length && all;
    },
    "spans of all four services in the order's trace",
    30_000,
  );
  return { orderId: JSON.parse(body).orderId, traceresponse: res.headers.get('traceresponse'), trace };
}

export interface InjectedRun extends PlacedOrder {
  autoDir: string;
  pods: Record<ServiceName, InjectedPod>;
  capture: Capture;
  services: Services;
}

/**
 * The whole fidelity run with one auto-instrumentation image: the operator mutates the pods,
 * the services start natively as those pods would run them (Kafka and a capture collector of
 * their own), and one order is placed and traced.
 */
export async function runInjected(image: AutoInstrumentationImage, name: string): Promise<InjectedRun> {
  const autoDir = autoInstrumentationDir(image);
  const pods = await injectedPods();
  const [kafka, capture] = await Promise.all([startKafka(`${name}-kafka`), startCapture(`${name}-capture`)]);
  const services = await startInjectedServices({ pods, autoDir, capture, kafkaBootstrap: kafka.bootstrap, name });
  return { autoDir, pods, capture, services, ...(await placeOrder(services, capture)) };
}
