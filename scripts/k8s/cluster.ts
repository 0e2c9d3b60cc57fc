// A real single-node Kubernetes cluster on this machine, for Lab 3's tests and for users without
// kind: the control plane of control-plane.ts (etcd, kube-apiserver, the operator) plus
// kube-controller-manager, kube-scheduler, containerd (with Debian's runc and CNI plugins), a
// kubelet, kube-proxy (nftables) and CoreDNS, all built by control-plane.sh. Pods run for real;
// images are imported into containerd (no registry is reachable). Needs root: a kubelet does.
//
// The node shares the machine: everything it keeps is under one run directory, and stop()
// deletes the workloads while the kubelet still runs (so the CNI plugin and the mounts are
// undone by their owners), stops every process, then puts back what the host looked like
// before (host.ts) and returns whatever is still different.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { repoRoot } from '../runtime/components.js';
import { freePort } from '../runtime/ports.js';
import { startProcess, watch, type ManagedProcess } from '../runtime/process.js';
import { waitFor } from '../runtime/wait.js';
import { controlPlaneArtifacts, type ControlPlaneArtifacts } from './artifacts.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { hostState, leftovers, restoreHost, type HostScope, type HostState } from './host.js';

const run = promisify(execFile);
const configDir = join(repoRoot, 'scripts', 'k8s', 'node');

/** The node's network, as on kind: pods in 10.244.0.0/24 on one bridge, Services in 10.96.0.0/16. */
export const NETWORK = {
  bridge: 'otellab0',
  podCidr: '10.244.0.0/24',
  serviceCidr: '10.96.0.0/16',
  serviceIp: '10.96.0.1',
  dnsIp: '10.96.0.10',
} as const;
export const NODE_NAME = 'otel-lab-node';
const CNI_BIN = '/usr/lib/cni';

export interface Cluster extends Omit<ControlPlane, 'stop'> {
  nodeName: string;
  nodeIp: string;
  /** The node's images: name -> docker-archive tar (pause, coredns, probe). */
  nodeImages: Record<string, string>;
  /** Runs ctr against the node's containerd, in the namespace the kubelet uses. */
  ctr(args: string[]): Promise<string>;
  /** Imports a docker-archive tar holding image `ref` into the node, tagged with each of `names` as well. */
  importImage(tar: string, ref: string, names?: string[]): Promise<void>;
  /** The host as it was before the node started. */
  hostBefore: HostState;
  /** Tears everything down; resolves with what is still different on the host (empty: nothing). */
  stop(): Promise<string[]>;
}

/** An image name as containerd stores it (and the kubelet asks for it): docker.io/library/x:t for x:t. */
export function imageRef(name: string): string {
  const first = name.split('/')[0];
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return name;
  return `docker.io/${name.includes('/') ? '' : 'library/'}${name}`;
}

/** Fills ${NAME} in one of the node's config files; an unknown name is an error, not a blank. */
function fill(file: string, values: Record<string, string | number>): string {
  return readFileSync(join(configDir, file), 'utf8').replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => {
    if (!(k in values)) throw new Error(`scripts/k8s/node/${file} uses \${${k}}, which the cluster does not set`);
    return String(values[k]);
  });
}

/** The machine's own address (the source of its default route): the node's InternalIP. */
async function detectNodeIp(): Promise<string> {
  const { stdout } = await run('ip', ['-4', '-j', 'route', 'get', '192.0.2.1']).catch(() => ({ stdout: '[]' }));
  const ip = (JSON.parse(stdout)[0] as { prefsrc?: string } | undefined)?.prefsrc;
  if (!ip) throw new Error('the node needs an IPv4 address with a default route (`ip -4 route get 192.0.2.1` gave none)');
  return ip;
}

/** What the node needs from the machine, each missing piece named with what to install. */
function checkPrerequisites() {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (a kubelet and containerd manage mounts, cgroups and network namespaces)');
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, cmd)));
  if (!onPath('runc')) missing.push('runc (Debian: apt-get install runc)');
  if (!onPath('nft')) missing.push('nft (Debian: apt-get install nftables)');
  if (!onPath('ip')) missing.push('ip (Debian: apt-get install iproute2)');
  for (const p of ['bridge', 'host-local', 'loopback'])
    if (!existsSync(join(CNI_BIN, p))) missing.push(`the CNI plugin ${CNI_BIN}/${p} (Debian: apt-get install containernetworking-plugins)`);
  if (missing.length) throw new Error(`the local cluster cannot start here; missing:\n  ${missing.join('\n  ')}\n(bash scripts/build/packages.sh node installs the packages)`);
}

/**
 * One node per machine: two would fight over the bridge, the pod CIDR and kube-proxy's nftables
 * tables. A lock directory holding the owner's PID (a dead owner's lock is taken over); a second
 * cluster (a parallel test file) waits for the first to stop.
 */
async function lockNode(): Promise<() => void> {
  const lock = join(tmpdir(), 'otel-lab-node.lock');
  const t0 = Date.now();
  let said = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(join(lock, 'pid'), 'utf8').trim() || 0);
    let alive = false;
    try {
      if (owner) process.kill(owner, 0), (alive = true);
    } catch {
      // the owner is gone
    }
    if (!alive && Date.now() - t0 > 2000) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!said) process.stderr.write(`[k8s-node] another local cluster (PID ${owner}) is running: waiting for it to stop\n`);
    said = true;
    if (Date.now() - t0 > 30 * 60_000) throw new Error(`another local cluster (PID ${owner}) held ${lock} for 30 min`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function startCluster(opts: { operator?: boolean } = {}): Promise<Cluster> {
  checkPrerequisites();
  const artifacts = await controlPlaneArtifacts();
  const unlock = await lockNode();
  try {
    return await startLockedCluster(artifacts, opts, unlock);
  } catch (e) {
    unlock();
    throw e;
  }
}

async function startLockedCluster(
  artifacts: ControlPlaneArtifacts,
  opts: { operator?: boolean },
  unlock: () => void,
): Promise<Cluster> {
  const started = Date.now();
  const nodeIp = await detectNodeIp();
  const users = {
    [`system:node:${NODE_NAME}`]: ['system:nodes'],
    'system:kube-controller-manager': [],
    'system:kube-scheduler': [],
    'system:kube-proxy': [],
  };
  const cp = await startControlPlane({
    operator: opts.operator,
    node: { ip: nodeIp, serviceCidr: NETWORK.serviceCidr, serviceIp: NETWORK.serviceIp, users },
  });
  const dir = cp.dir;
  const scope: HostScope = { dir, bridge: NETWORK.bridge };
  // Read once the control plane runs: its processes name `dir` too, and must be gone after stop().
  const hostBefore = hostState(scope);
  const processes: ManagedProcess[] = [];
  const track = (p: ManagedProcess) => (watch(p), processes.push(p), p);
  const log = (msg: string) => process.stderr.write(`[k8s-node] ${msg}\n`);

  try {
    // One kubeconfig per component, each its own user (RBAC's system:* bindings apply).
    const kubeconfigFor = (user: string, file: string) => {
      const path = join(dir, file);
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'otel-lab', cluster: { server: cp.server, 'certificate-authority': cp.certs.caCert } }],
          users: [{ name: user, user: { token: cp.certs.userTokens[user] } }],
          contexts: [{ name: 'otel-lab', context: { cluster: 'otel-lab', user } }],
          'current-context': 'otel-lab',
        }),
      );
      return path;
    };

    // containerd, then the node's own images (the sandbox's pause first of all).
    const imagesDir = artifacts['node-images'];
    const nodeImages = Object.fromEntries(
      readFileSync(join(imagesDir, 'images.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([tar, name]) => [name, join(imagesDir, tar)]),
    );
    const image = (prefix: string) => {
      const name = Object.keys(nodeImages).find((n) => n.startsWith(prefix));
      if (!name) throw new Error(`${imagesDir}/images.txt names no ${prefix} image`);
      return name;
    };
    const values = {
      DIR: dir,
      NODE_IP: nodeIp,
      NODE_NAME,
      BRIDGE: NETWORK.bridge,
      POD_CIDR: NETWORK.podCidr,
      DNS_IP: NETWORK.dnsIp,
      CNI_BIN,
      RUNC: (await run('bash', ['-c', 'command -v runc'])).stdout.trim(),
      PAUSE_IMAGE: image('otel-lab-local/pause:'),
      COREDNS_IMAGE: image('otel-lab-local/coredns:'),
      CA_CERT: cp.certs.caCert,
      KUBELET_PORT: await freePort(),
      KUBELET_HEALTHZ_PORT: await freePort(),
      PROXY_HEALTHZ_PORT: await freePort(),
      PROXY_METRICS_PORT: await freePort(),
      KUBECONFIG: kubeconfigFor('system:kube-proxy', 'kube-proxy.kubeconfig'),
    };
    mkdirSync(join(dir, 'cni'), { recursive: true });
    writeFileSync(join(dir, 'containerd.toml'), fill('containerd.toml', values));
    writeFileSync(join(dir, 'cni', '10-otel-lab.conflist'), fill('cni.conflist', values));
    writeFileSync(join(dir, 'kubelet.yaml'), fill('kubelet.yaml', values));
    writeFileSync(join(dir, 'kube-proxy.yaml'), fill('kube-proxy.yaml', values));

    const socket = join(dir, 'containerd.sock');
    // The shim is found on PATH, next to containerd.
    const binPath = `${join(artifacts.containerd, '..')}:${process.env.PATH ?? ''}`;
    track(
      startProcess({
        name: 'containerd',
        command: artifacts.containerd,
        args: ['--config', join(dir, 'containerd.toml')],
        logFile: join(dir, 'containerd.log'),
        env: { PATH: binPath },
      }),
    );
    const ctr = async (args: string[]) =>
      (await run(artifacts.ctr, ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 64 << 20 })).stdout;
    await waitFor(async () => (await ctr(['version']).catch(() => '')).includes('Server'), {
      what: `containerd on ${socket}`,
      timeoutMs: 30_000,
    });
    const importImage = async (tar: string, ref: string, names: string[] = []) => {
      await ctr(['images', 'import', tar]).catch((e) => {
        throw new Error(`ctr images import ${tar} failed: ${e.stderr ?? e.message}`);
      });
      for (const name of names) await ctr(['images', 'tag', '--force', imageRef(ref), imageRef(name)]);
    };
    for (const [name, tar] of Object.entries(nodeImages)) await importImage(tar, name);

    track(
      startProcess({
        name: 'kube-controller-manager',
        command: artifacts['kube-controller-manager'],
        logFile: join(dir, 'kube-controller-manager.log'),
        args: (() => {
          const kc = kubeconfigFor('system:kube-controller-manager', 'kube-controller-manager.kubeconfig');
          return [
            `--kubeconfig=${kc}`,
            // No health endpoint to serve: readiness is read from the objects it manages.
            '--secure-port=0',
            '--leader-elect=false',
            `--service-account-private-key-file=${cp.certs.saPrivate}`,
            `--root-ca-file=${cp.certs.caCert}`,
            // Each controller with its own service account, as kubeadm runs it.
            '--use-service-account-credentials=true',
            `--service-cluster-ip-range=${NETWORK.serviceCidr}`,
            `--cluster-cidr=${NETWORK.podCidr}`,
          ];
        })(),
      }),
    );
    track(
      startProcess({
        name: 'kube-scheduler',
        command: artifacts['kube-scheduler'],
        logFile: join(dir, 'kube-scheduler.log'),
        args: (() => {
          const kc = kubeconfigFor('system:kube-scheduler', 'kube-scheduler.kubeconfig');
          return [`--kubeconfig=${kc}`, '--secure-port=0', '--leader-elect=false'];
        })(),
      }),
    );
    track(
      startProcess({
        name: 'kubelet',
        command: artifacts.kubelet,
        logFile: join(dir, 'kubelet.log'),
        env: { PATH: binPath },
        args: [
          `--config=${join(dir, 'kubelet.yaml')}`,
          `--kubeconfig=${kubeconfigFor(`system:node:${NODE_NAME}`, 'kubelet.kubeconfig')}`,
          `--root-dir=${join(dir, 'kubelet')}`,
          `--cert-dir=${join(dir, 'kubelet-pki')}`,
          `--hostname-override=${NODE_NAME}`,
          `--node-ip=${nodeIp}`,
        ],
      }),
    );
    track(
      startProcess({
        name: 'kube-proxy',
        command: artifacts['kube-proxy'],
        logFile: join(dir, 'kube-proxy.log'),
        args: [`--config=${join(dir, 'kube-proxy.yaml')}`],
      }),
    );
    await waitFor(
      async () => {
        const r = await cp.kubectl(['get', 'node', NODE_NAME, '-o', 'json'], { allowFail: true });
        return r.code === 0 && JSON.parse(r.stdout).status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
      },
      { what: `node ${NODE_NAME} to be Ready (kubelet log: ${join(dir, 'kubelet.log')})`, timeoutMs: 90_000 },
    );
    log(`node ${NODE_NAME} (${nodeIp}) Ready ${((Date.now() - started) / 1000).toFixed(1)} s after start`);

    await cp.apply(fill('coredns.yaml', values));
    await cp.kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s']);
    log(`cluster DNS ready ${((Date.now() - started) / 1000).toFixed(1)} s after start (logs: ${dir})`);

    const cluster: Cluster = {
      ...cp,
      nodeName: NODE_NAME,
      nodeIp,
      nodeImages,
      ctr,
      importImage,
      hostBefore,
      processes: [...cp.processes, ...processes],
      async stop() {
        await teardown(cp, processes, log);
        const done = restoreHost(hostBefore, scope);
        if (done.length) log(`host restored: ${done.join('; ')}`);
        const left = leftovers(hostBefore, hostState(scope));
        left.push(...removeNodeState(dir, left));
        unlock();
        return left;
      },
    };
    return cluster;
  } catch (e) {
    await teardown(cp, processes, log).catch(() => {});
    restoreHost(hostBefore, scope);
    removeNodeState(dir, leftovers(hostBefore, hostState(scope)));
    throw e;
  }
}

/**
 * Workloads first, while the kubelet runs: deleting the pods makes it tear down their sandboxes
 * (CNI DEL, volume unmounts). Then every node process, then the control plane.
 */
async function teardown(cp: ControlPlane, node: ManagedProcess[], log: (m: string) => void) {
  const kubelet = node.find((p) => p.name === 'kubelet');
  if (kubelet && !kubelet.exit) {
    const namespaces: string[] = JSON.parse((await cp.kubectl(['get', 'ns', '-o', 'json'], { allowFail: true })).stdout || '{"items":[]}')
      .items.map((n: any) => n.metadata.name)
      .filter((n: string) => !['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(n));
    // Controllers first (they would recreate pods), then the pods with a short grace period: the
    // kubelet still stops each container and tears down its sandbox, just without the 30 s wait.
    await cp.kubectl(['delete', 'opentelemetrycollector,deployment,statefulset,daemonset,job,replicaset', '--all', '-A', '--wait=false'], { allowFail: true });
    await cp.kubectl(['delete', 'pod', '--all', '-A', '--grace-period=2', '--wait=false'], { allowFail: true });
    if (namespaces.length) await cp.kubectl(['delete', 'ns', ...namespaces, '--wait=false'], { allowFail: true });
    const t0 = Date.now();
    await waitFor(
      async () => {
        const r = await cp.kubectl(['get', 'pods', '-A', '-o', 'name'], { allowFail: true });
        return r.code === 0 && r.stdout.trim() === '';
      },
      { what: 'every pod to be gone', timeoutMs: 90_000 },
    ).catch(() => log('some pods were still there after 90 s: stopping the node anyway'));
    log(`workloads deleted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const name of ['kube-proxy', 'kubelet', 'kube-scheduler', 'kube-controller-manager']) await node.find((p) => p.name === name)?.stop();
  // Shims outlive containerd by design (containers survive its restarts): stop the containers first.
  const containerd = node.find((p) => p.name === 'containerd');
  await containerd?.stop();
  await killShims(cp.dir);
  await cp.stop();
}

/**
 * The node's bulk state (~4 GB with the lab's images unpacked): containerd's content and
 * snapshots, the kubelet's pod volumes, etcd's data. The logs and configs stay for reading. Only
 * once nothing is mounted under the directory: deleting through a bind mount would reach into
 * the host. Returns what could not be removed.
 */
function removeNodeState(dir: string, left: string[]): string[] {
  if (left.some((l) => l.startsWith('mount left:'))) return [`${dir}: node state kept (something is still mounted under it)`];
  const failed: string[] = [];
  for (const sub of ['containerd', 'kubelet', 'runc', 'etcd-data', 'cni-ipam', 's']) {
    try {
      rmSync(join(dir, sub), { recursive: true, force: true });
    } catch (e) {
      failed.push(`${join(dir, sub)} could not be removed: ${(e as Error).message}`);
    }
  }
  return failed;
}

/** containerd-shim-runc-v2 processes of this node (their -address names its socket), and their containers. */
async function killShims(dir: string) {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']).catch(() => ({ stdout: '' }));
  const pids = stdout
    .split('\n')
    .filter((l) => l.includes('containerd-shim') && l.includes(dir))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL'); // its own process group: the shim and its containers
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  if (pids.length) await new Promise((r) => setTimeout(r, 500));
}
