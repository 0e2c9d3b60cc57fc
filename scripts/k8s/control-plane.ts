// A real Kubernetes control plane on loopback for Lab 3: etcd, kube-apiserver and the
// OpenTelemetry Operator (built by scripts/k8s/control-plane.sh, see artifacts.ts), with the
// operator's CRDs installed and its webhooks registered by URL, so the lab's manifests meet the
// real API server, its Pod Security admission and the operator's own defaulting, validating and
// pod-mutating webhooks. On its own there is no kubelet or scheduler: objects are stored and
// admitted, pods never run. scripts/k8s/cluster.ts adds a node to it (the `node` option).
// Only the project's own kubectl is used, with a kubeconfig and caches of this run: never a
// kubectl or a ~/.kube already on the machine.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runDir } from '../runtime/components.js';
import { freePort } from '../runtime/ports.js';
import { startProcess, watch, type ManagedProcess } from '../runtime/process.js';
import { waitFor } from '../runtime/wait.js';
import { controlPlaneArtifacts, type ControlPlaneArtifacts } from './artifacts.js';
import { getWithCa, makeCertificates, type Certificates } from './certificates.js';
import { parseObjects, type K8sObject } from './manifests.js';

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
  /** This run's PKI and its directory (logs, configs). */
  certs: Certificates;
  dir: string;
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

/** A control plane that will serve a node (scripts/k8s/cluster.ts) rather than stand alone. */
export interface NodeServing {
  /** The node's IP: the API server listens and advertises there, so pods reach it through the `kubernetes` Service. */
  ip: string;
  /** The Service CIDR (kind's is 10.96.0.0/16); its first address is the `kubernetes` Service. */
  serviceCidr: string;
  serviceIp: string;
  /** Token users for the node's components: name -> groups. */
  users: Record<string, string[]>;
}

export interface ControlPlaneOptions {
  operator?: boolean;
  node?: NodeServing;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const withOperator = opts.operator ?? true;
  const node = opts.node;
  const artifacts = await controlPlaneArtifacts();
  const started = Date.now();
  const dir = runDir(node ? 'k8s-cluster' : 'k8s');
  const certs = makeCertificates(
    join(dir, 'pki'),
    node
      ? {
          ips: [node.ip, node.serviceIp],
          names: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
          users: node.users,
          kubeletClient: true,
        }
      : {},
  );
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

  const apiHost = node?.ip ?? '127.0.0.1';
  const server = `https://${apiHost}:${apiPort}`;
  const apiserver = track(
    startProcess({
      name: 'kube-apiserver',
      command: artifacts['kube-apiserver'],
      logFile: join(dir, 'kube-apiserver.log'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        `--bind-address=${apiHost}`,
        `--advertise-address=${apiHost}`,
        `--secure-port=${apiPort}`,
        `--cert-dir=${join(dir, 'apiserver')}`,
        `--tls-cert-file=${certs.serverCert}`,
        `--tls-private-key-file=${certs.serverKey}`,
        `--client-ca-file=${certs.caCert}`,
        `--token-auth-file=${certs.tokens}`,
        `--service-account-key-file=${certs.saPublic}`,
        `--service-account-signing-key-file=${certs.saPrivate}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-cluster-ip-range=${node?.serviceCidr ?? '10.0.0.0/24'}`,
        // As on kind and most clusters: whether a privileged pod may run is Pod Security's call.
        '--allow-privileged=true',
        ...(node
          ? [
              // As kubeadm sets it: kubelets may touch only their own node and its pods.
              '--authorization-mode=Node,RBAC',
              '--enable-admission-plugins=NodeRestriction',
              // The `kubernetes` Service's endpoint is this API server on the node IP (lease reconciler, the default).
              `--kubelet-client-certificate=${certs.kubeletClientCert}`,
              `--kubelet-client-key=${certs.kubeletClientKey}`,
              // The node registers no DNS name anyone can resolve: call the kubelet on its IP (logs, exec).
              '--kubelet-preferred-address-types=InternalIP,Hostname',
            ]
          : [
              '--authorization-mode=RBAC',
              // No kube-proxy or endpoints to keep: there is no node.
              '--endpoint-reconciler-type=none',
            ]),
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
    KUBECACHEDIR: artifacts['kubectl-cache'],
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
    certs,
    dir,
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
