// The lab's own single-node cluster (scripts/k8s/cluster.ts), before any lab runs on it: a real
// kubelet runs pods from an imported image, the pod network, Services and cluster DNS work as on
// kind, `kubectl logs` and `exec` reach the containers, and stopping it leaves the machine as it
// was: no process, mount, link, netfilter table, sysctl, cgroup or path of its own left behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { NETWORK, startCluster, type Cluster } from '../../scripts/k8s/cluster.js';
import { versions } from '../../scripts/runtime/components.js';
import { waitFor } from '../../scripts/runtime/wait.js';

const NS = 'node-check';

describe('a single-node cluster built here', () => {
  useLab();
  let cluster: Cluster | undefined;
  let stopped = false;
  beforeAll(async () => {
    cluster = await startCluster({ operator: false });
  }, 30 * 60_000);
  afterAll(async () => {
    if (cluster && !stopped) await cluster.stop();
  }, 180_000);

  const probeImage = () => Object.keys(cluster!.nodeImages).find((n) => n.includes('/probe:'))!;
  const podsOf = async () => JSON.parse((await cluster!.kubectl(['-n', NS, 'get', 'pods', '-l', 'app=probe', '-o', 'json'])).stdout).items;

  it("registers its node, Ready, with the machine's own address as InternalIP", async () => {
    const node = JSON.parse((await cluster!.kubectl(['get', 'node', cluster!.nodeName, '-o', 'json'])).stdout);
    expect(node.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: cluster!.nodeIp });
    expect(node.status.nodeInfo.kubeletVersion).toBe(`v${versions().KUBERNETES_VERSION}`);
    expect(node.status.nodeInfo.containerRuntimeVersion).toBe(`containerd://${versions().CONTAINERD_VERSION}`);
  });

  it('runs a Deployment of an imported image: both replicas Running, on pod IPs of the bridge', async () => {
    await cluster!.apply(`
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: probe, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: probe } }
  template:
    metadata: { labels: { app: probe } }
    spec:
      containers:
        - name: probe
          image: ${probeImage()}
          imagePullPolicy: Never
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: probe, namespace: ${NS} }
spec:
  selector: { app: probe }
  ports: [{ port: 80, targetPort: 8080 }]
`);
    await cluster!.kubectl(['-n', NS, 'rollout', 'status', 'deployment/probe', '--timeout=60s']);
    const pods = await podsOf();
    expect(pods.map((p: any) => p.status.phase)).toEqual(['Running', 'Running']);
    for (const p of pods) expect(p.status.podIP).toMatch(/^10\.244\.0\.\d+$/);
    // The Service's endpoints follow a moment later (the EndpointSlice controller, then kube-proxy).
    await waitFor(
      async () => {
        const slices = JSON.parse((await cluster!.kubectl(['-n', NS, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=probe', '-o', 'json'])).stdout).items;
        return slices.flatMap((s: any) => s.endpoints ?? []).filter((e: any) => e.conditions?.ready).length === 2;
      },
      { what: "the probe Service's EndpointSlice to list both pods", timeoutMs: 30_000 },
    );
  });

  it('pods reach each other, a Service by its DNS name, the `kubernetes` Service and the host', async () => {
    const [a, b] = await podsOf();
    const fetchFrom = async (pod: any, url: string) => {
      const res = await fetch(`http://${pod.status.podIP}:8080/fetch?url=${encodeURIComponent(url)}`);
      return `${res.status} ${await res.text()}`;
    };
    // The host reaches a pod directly (the bridge is its gateway), and a pod reaches another.
    expect(await fetchFrom(a, `http://${b.status.podIP}:8080/`)).toBe(`200 200 ${b.metadata.name}\n`);
    // Cluster DNS (CoreDNS) and the Service's ClusterIP (kube-proxy's nftables rules).
    const resolved = await fetch(`http://${a.status.podIP}:8080/resolve?name=probe.${NS}.svc.cluster.local`);
    const svc = JSON.parse((await cluster!.kubectl(['-n', NS, 'get', 'svc', 'probe', '-o', 'json'])).stdout);
    expect(await resolved.text()).toBe(`${svc.spec.clusterIP}\n`);
    expect(svc.spec.clusterIP.startsWith(NETWORK.serviceCidr.split('.').slice(0, 2).join('.'))).toBe(true);
    // kube-proxy writes the Service's rules within its sync period (1 s) of the EndpointSlice.
    let viaService = '';
    await waitFor(async () => /^200 200 probe-/.test((viaService = await fetchFrom(a, `http://probe.${NS}/`))), {
      what: 'the probe Service to answer from a pod',
      timeoutMs: 10_000,
    }).catch(() => {});
    expect(viaService).toMatch(/^200 200 probe-/);
    // The API server through the `kubernetes` Service: its TLS handshake (the probe trusts no CA).
    expect(await fetchFrom(a, 'https://kubernetes.default.svc/version')).toMatch(/^502 .*certificate/);
    // The host (the API server listens on the node IP).
    expect(await fetchFrom(a, `http://${cluster!.nodeIp}:1/`)).toMatch(/^502 .*connection refused/);
  });

  it('`kubectl logs` and `kubectl exec` reach the containers through the kubelet', async () => {
    const [a] = await podsOf();
    const logs = await cluster!.kubectl(['-n', NS, 'logs', a.metadata.name]);
    expect(logs.stdout).toContain(`probe ${a.metadata.name} listening on :8080`);
    const exec = await cluster!.kubectl(['-n', NS, 'exec', a.metadata.name, '--', '/probe', 'get', `http://probe.${NS}.svc.cluster.local/`]);
    expect(exec.stdout).toMatch(/^probe-/);
  });

  it('stopping it leaves the host as it was: no process, mount, link, netfilter rule, sysctl, cgroup or path left', async () => {
    const left = await cluster!.stop();
    stopped = true;
    expect(left).toEqual([]);
    // Nor the node's gigabytes: containerd's images and snapshots, the pods' volumes (the logs stay).
    for (const bulk of ['containerd', 'kubelet', 'etcd-data']) expect(existsSync(join(cluster!.dir, bulk)), bulk).toBe(false);
    expect(existsSync(join(cluster!.dir, 'kubelet.log'))).toBe(true);
  }, 180_000);
});
