// Lab 3 all the way: `kubectl apply -k k8s`, unchanged, on the lab's own single-node cluster
// (scripts/k8s/cluster.ts) with the OpenTelemetry Operator — the pods run, the operator injects
// the Node.js auto-instrumentation into them, and the telemetry that comes out is asserted where
// a user would look: traces in Jaeger (through the load-balancing and tail-sampling tiers),
// metrics in Prometheus (OTLP and scraped through the Target Allocator).
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startCluster, type Cluster } from '../../scripts/k8s/cluster.js';
import { loadLabImages } from '../../scripts/k8s/cluster-images.js';
import { k8sDir, renderKustomize, type K8sObject } from '../../scripts/k8s/manifests.js';
import { readJaegerTrace } from '../../scripts/runtime/jaeger.js';
import { processUsage } from '../../scripts/runtime/process.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { runTraffic, type TrafficResult } from '../../scripts/traffic/index.js';

const NS = 'otel-lab';

/** RSS of the node's own processes and the pods' memory (the kubepods cgroup), for the log. */
function memoryReport(cluster: Cluster): string {
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  const rss = cluster.processes.map((p) => [p.name, (processUsage(p.pid)?.rssBytes ?? 0)] as const);
  const total = rss.reduce((n, [, b]) => n + b, 0);
  let pods = 0;
  for (const f of ['/sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes', '/sys/fs/cgroup/kubepods/memory.current'])
    if (existsSync(f)) pods = Number(readFileSync(f, 'utf8'));
  return `node and control plane ${mib(total)} (${rss.map(([n, b]) => `${n} ${mib(b)}`).join(', ')}); pods ${mib(pods)}`;
}
const SERVICES = ['gateway', 'orders', 'payments', 'fulfillment'];

describe('Lab 3 on a real node: kubectl apply -k k8s', () => {
  useLab();
  let cluster: Cluster;
  let objects: K8sObject[];
  let bringUpSeconds = 0;
  let stopped = false;
  const kubectl = (...args: string[]) => cluster.kubectl(args);
  const json = async (...args: string[]) => JSON.parse((await cluster.kubectl([...args, '-o', 'json'])).stdout);
  const serviceIp = async (name: string) => (await json('-n', NS, 'get', 'svc', name)).spec.clusterIP as string;

  beforeAll(async () => {
    cluster = await startCluster({ operator: true });
    objects = await renderKustomize();
    await loadLabImages(cluster, objects);
    const t0 = Date.now();
    // What a user types on kind, with the project's kubectl and this cluster's kubeconfig.
    await cluster.kubectl(['apply', '-k', k8sDir]);
    // The operator makes the collectors' workloads a moment after their CRs.
    await waitFor(async () => (await kubectl('-n', NS, 'get', 'deployment/lb-collector', 'statefulset/sampler-collector', 'statefulset/metrics-collector', 'deployment/metrics-targetallocator').catch(() => null)) !== null, {
      what: "the operator's collector workloads",
      timeoutMs: 60_000,
    });
    for (const d of (await json('-n', NS, 'get', 'deployment')).items) await kubectl('-n', NS, 'rollout', 'status', `deployment/${d.metadata.name}`, '--timeout=300s');
    for (const s of (await json('-n', NS, 'get', 'statefulset')).items) await kubectl('-n', NS, 'rollout', 'status', `statefulset/${s.metadata.name}`, '--timeout=300s');
    bringUpSeconds = (Date.now() - t0) / 1000;
    process.stderr.write(`[k8s] the lab's workloads Ready ${bringUpSeconds.toFixed(1)} s after kubectl apply -k k8s\n`);
    process.stderr.write(`[k8s] memory with the lab running: ${memoryReport(cluster)}\n`);
  }, 40 * 60_000);
  afterAll(async () => {
    if (cluster && !stopped) await cluster.stop();
  }, 240_000);

  it('brings every workload of k8s/ to Ready (Deployments, StatefulSets, the operator-made collectors)', async () => {
    const workloads = [...(await json('-n', NS, 'get', 'deployment')).items, ...(await json('-n', NS, 'get', 'statefulset')).items];
    expect(workloads.map((w: any) => w.metadata.name).sort()).toEqual(
      expect.arrayContaining(['fulfillment', 'gateway', 'jaeger', 'kafka', 'lb-collector', 'metrics-collector', 'metrics-targetallocator', 'orders', 'payments', 'prometheus', 'sampler-collector']),
    );
    for (const w of workloads) expect(w.status.readyReplicas ?? 0, `${w.kind}/${w.metadata.name} ready`).toBe(w.spec.replicas);
    // The load generator's Job sends orders for 10 minutes: running, never restarted.
    const [generator] = (await json('-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=load-generator')).items;
    expect(generator?.status.phase).toBe('Running');
    expect(generator.status.containerStatuses[0].restartCount).toBe(0);
  });

  it("injects every demo pod: the operator's init container ran and completed, NODE_OPTIONS requires it, the image's own command has no SDK", async () => {
    for (const s of SERVICES) {
      const [pod] = (await json('-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/name=${s}`)).items;
      const init = pod.status.initContainerStatuses?.find((c: any) => c.name === 'opentelemetry-auto-instrumentation-nodejs');
      expect(init?.state?.terminated, `${s}'s init container`).toMatchObject({ exitCode: 0, reason: 'Completed' });
      const env = Object.fromEntries(pod.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.NODE_OPTIONS, s).toContain('--require /otel-auto-instrumentation-nodejs/autoinstrumentation.js');
      expect(env.LAB_INSTRUMENTATION, s).toBe('zero-code');
      // What runs is the image's entry with no --require of its own: the SDK comes only from the volume.
      const cmdline = (await kubectl('-n', NS, 'exec', pod.metadata.name, '-c', s, '--', 'cat', '/proc/1/cmdline')).stdout.replaceAll('\0', ' ');
      expect(cmdline, s).not.toContain('@opentelemetry');
      const nodeOptions = (await kubectl('-n', NS, 'exec', pod.metadata.name, '-c', s, '--', 'sh', '-c', 'echo $NODE_OPTIONS')).stdout;
      expect(nodeOptions, s).toContain('/otel-auto-instrumentation-nodejs/autoinstrumentation.js');
    }
  });

  it('runs the operator outside the cluster (what differs from kind): its webhooks are called by URL on the host, no operator pod or Service exists', async () => {
    const hooks = (await json('get', 'mutatingwebhookconfigurations')).items.flatMap((c: any) => c.webhooks);
    const podHook = hooks.find((w: any) => w.name === 'mpod.kb.io');
    expect(podHook?.clientConfig.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mutate-v1-pod$/);
    expect(podHook?.clientConfig.service).toBeUndefined();
    const everything = [...(await json('get', 'pods', '-A')).items, ...(await json('get', 'services', '-A')).items];
    expect(everything.filter((o: any) => /opentelemetry-operator/.test(o.metadata.name)).map((o: any) => o.metadata.name)).toEqual([]);
  });

  it('OOM-kills or evicts nothing: no container restarted for memory, no eviction event', async () => {
    const pods = (await json('-n', NS, 'get', 'pods')).items;
    const oom = pods.flatMap((p: any) =>
      [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]
        .filter((c: any) => c.lastState?.terminated?.reason === 'OOMKilled' || c.state?.terminated?.reason === 'OOMKilled')
        .map((c: any) => `${p.metadata.name}/${c.name}`),
    );
    expect(oom).toEqual([]);
    expect(pods.filter((p: any) => p.status.reason === 'Evicted').map((p: any) => p.metadata.name)).toEqual([]);
    const events = (await json('get', 'events', '-A')).items.filter((e: any) => /Evict|OOM/i.test(`${e.reason} ${e.message}`));
    expect(events.map((e: any) => `${e.involvedObject.name}: ${e.reason} ${e.message}`)).toEqual([]);
  });

  let traffic: TrafficResult;
  it('orders through the gateway Service reach Jaeger through both collector tiers, with k8s.* resource attributes; every error kept, ok ones near the configured 10 %', async () => {
    traffic = await runTraffic({
      target: `http://${await serviceIp('gateway')}:8080`,
      count: 240,
      rate: 40,
      concurrency: 8,
      mix: { ok: 80, error: 15, slow: 5 },
    });
    expect(traffic.failed, JSON.stringify(traffic.failures.slice(0, 3))).toBe(0);
    const jaeger = `http://${await serviceIp('jaeger')}:16686`;
    // decision_wait (10 s) + batching: every error trace kept by the tail sampler.
    // Error and slow traces are all kept (status and latency policies), each decided decision_wait
    // (10 s) after its first span, the slow ones' Kafka hop to fulfillment included.
    let errorTraces: Awaited<ReturnType<typeof readJaegerTrace>>[] = [];
    let slow: Awaited<ReturnType<typeof readJaegerTrace>>[] = [];
    const withFulfillment = (t: { service: string }[]) => t.some((s) => s.service === 'fulfillment');
    await waitFor(
      async () => {
        errorTraces = await Promise.all(traffic.traceIds.error.map((id) => readJaegerTrace(jaeger, id)));
        slow = await Promise.all(traffic.traceIds.slow.map((id) => readJaegerTrace(jaeger, id)));
        return errorTraces.every((t) => t.length > 0) && slow.every(withFulfillment);
      },
      { what: `all ${traffic.traceIds.error.length} error and ${traffic.traceIds.slow.length} slow traces in Jaeger`, timeoutMs: 60_000 },
    ).catch(() => {}); // the assertions below say which are missing
    expect(errorTraces.filter((t) => t.length === 0).length, 'error traces missing from Jaeger').toBe(0);
    const spans = errorTraces.flat();
    expect([...new Set(spans.map((s) => s.service))]).toEqual(expect.arrayContaining(['gateway', 'orders', 'payments']));
    for (const s of spans) {
      expect(s.resource['k8s.namespace.name'], s.service).toBe(NS);
      expect(s.resource['k8s.node.name'], s.service).toBe(cluster.nodeName);
      expect(s.resource['k8s.deployment.name'], s.service).toBe(s.service);
      expect(String(s.resource['k8s.pod.name']), s.service).toMatch(new RegExp(`^${s.service}-`));
      // Decided by a pod of the tail-sampling StatefulSet.
      expect(String(s.resource['lab.sampler'])).toMatch(/^sampler-collector-\d$/);
    }
    // Slow orders are all kept (the latency policy) and went on through Kafka: the fulfillment
    // service's spans in them prove Kafka's advertised listener (kafka:9092) works inside the cluster.
    expect(slow.filter((t) => t.length === 0).length, 'slow traces missing from Jaeger').toBe(0);
    for (const t of slow) expect([...new Set(t.map((s) => s.service))]).toContain('fulfillment');
    // The ok traces were decided in the same windows as the errors: those kept are in by now.
    const okKept = (await Promise.all(traffic.traceIds.ok.map((id) => readJaegerTrace(jaeger, id)))).filter((t) => t.length > 0).length;
    const n = traffic.traceIds.ok.length;
    const share = okKept / n;
    const sd = Math.sqrt((0.1 * 0.9) / n);
    process.stderr.write(`[k8s] kept ${traffic.traceIds.error.length}/${traffic.traceIds.error.length} error traces, ${okKept}/${n} ok ones (${(share * 100).toFixed(1)} %, configured 10 %)\n`);
    // Within three standard deviations of a 10 % draw (the probabilistic policy hashes trace ids).
    expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(3 * sd);
  }, 120_000);

  it('the Target Allocator hands the services\' pods to the metrics collector: /jobs, /scrape_configs and its targets answer', async () => {
    const ta = `http://${await serviceIp('metrics-targetallocator')}`;
    const jobs = (await (await fetch(`${ta}/jobs`)).json()) as Record<string, unknown>;
    expect(Object.keys(jobs)).toContain('otel-lab-services');
    const configs = (await (await fetch(`${ta}/scrape_configs`)).json()) as Record<string, any>;
    expect(configs['otel-lab-services'].kubernetes_sd_configs[0].role).toBe('pod');
    let targets: any[] = [];
    await waitFor(
      async () => {
        targets = (await (await fetch(`${ta}/jobs/otel-lab-services/targets?collector_id=metrics-collector-0`)).json()) as any[];
        return targets.flatMap((t) => t.targets).length === SERVICES.length;
      },
      { what: 'the Target Allocator to assign one target per service pod to metrics-collector-0', timeoutMs: 60_000 },
    );
    // Target groups carry the discovered (pre-relabeling) labels: the pod's own app.kubernetes.io/name.
    expect(targets.map((t) => t.labels.__meta_kubernetes_pod_label_app_kubernetes_io_name).sort()).toEqual([...SERVICES].sort());
  });

  it('the services\' metrics reach Prometheus on both paths: OTLP from the SDK (k8s.* promoted) and scraped via the Target Allocator (service, pod labels)', { timeout: 120_000 }, async () => {
    const prometheus = `http://${await serviceIp('prometheus')}:9090`;
    const query = async (q: string) =>
      ((await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as any).data.result as any[];
    let otlp: any[] = [];
    let scraped: any[] = [];
    const sum = (r: any[]) => r.reduce((n, x) => n + Number(x.value[1]), 0);
    // Both count the same requests: the test's orders, and the load generator's. OTLP's job is
    // service.namespace/service.name, and the operator sets service.namespace to the namespace.
    await waitFor(
      async () => {
        otlp = await query('lab_http_server_requests_total{job="otel-lab/gateway", http_route="/orders"}');
        scraped = await query('lab_http_server_requests_total{job="otel-lab-services", service="gateway", http_route="/orders"}');
        return sum(otlp) >= traffic.sent && sum(scraped) >= traffic.sent;
      },
      { what: `the gateway's /orders counter at ${traffic.sent} or more in Prometheus on both paths`, timeoutMs: 90_000 },
    );
    expect(otlp[0].metric.k8s_namespace_name).toBe(NS);
    expect(otlp[0].metric.k8s_pod_name).toMatch(/^gateway-/);
    expect(scraped[0].metric.pod).toBe(otlp[0].metric.k8s_pod_name);
    expect(scraped[0].metric.instance).toMatch(/^10\.244\.0\.\d+:8080$/);
  });

  it('scaling the sampler StatefulSet from 2 to 3 under traffic: the LB tier\'s k8s resolver sends traces to the new pod', async () => {
    await kubectl('-n', NS, 'patch', 'opentelemetrycollector', 'sampler', '--type=merge', '-p', '{"spec":{"replicas":3}}');
    const during = runTraffic({ target: `http://${await serviceIp('gateway')}:8080`, durationSeconds: 30, rate: 10, concurrency: 4, mix: { ok: 0, error: 100, slow: 0 } });
    await waitFor(async () => (await json('-n', NS, 'get', 'statefulset', 'sampler-collector')).status.readyReplicas === 3, {
      what: 'sampler-collector to have 3 ready pods',
      timeoutMs: 120_000,
    });
    const result = await during;
    const after = await runTraffic({ target: `http://${await serviceIp('gateway')}:8080`, count: 60, rate: 20, concurrency: 4, mix: { ok: 0, error: 100, slow: 0 } });
    const jaeger = `http://${await serviceIp('jaeger')}:16686`;
    const samplersOf = async (ids: string[]) => Promise.all(ids.map(async (id) => new Set((await readJaegerTrace(jaeger, id)).map((s) => String(s.resource['lab.sampler'])))));
    let afterSamplers: Set<string>[] = [];
    await waitFor(
      async () => {
        afterSamplers = await samplersOf(after.traceIds.error);
        return afterSamplers.every((s) => s.size > 0);
      },
      { what: 'the error traces sent after scaling, in Jaeger', timeoutMs: 60_000 },
    );
    const duringSamplers = await samplersOf(result.traceIds.error);
    const split = duringSamplers.filter((s) => s.size > 1).length;
    const byNew = afterSamplers.filter((s) => s.has('sampler-collector-2')).length;
    process.stderr.write(
      `[k8s] scaling 2 -> 3: ${result.traceIds.error.length} error traces during (${split} split across samplers, ${duringSamplers.filter((s) => s.size === 0).length} not in Jaeger), ` +
        `${after.traceIds.error.length} after (${byNew} decided by sampler-collector-2)\n`,
    );
    // Consistent hashing over 3 endpoints: about a third each; at least one in ten is far from chance.
    expect(byNew).toBeGreaterThanOrEqual(after.traceIds.error.length / 10);
    expect(afterSamplers.filter((s) => s.size > 1)).toEqual([]);
  });

  it('Pod Security: the API server names the running pods "restricted" would reject — the injected ones, for the operator\'s init container', async () => {
    const dry = await cluster.kubectl(['label', '--dry-run=server', '--overwrite', 'ns', NS, 'pod-security.kubernetes.io/enforce=restricted']);
    process.stderr.write(`[k8s] enforce=restricted on the running pods, the API server says:\n${dry.stderr}\n`);
    expect(dry.stderr).toContain(`existing pods in namespace "${NS}" violate the new PodSecurity enforce level "restricted:latest"`);
    const warned = [...dry.stderr.matchAll(/Warning: (\S+)( \(and (\d+) other pods?\))?: (.*)/g)];
    // Only service pods are named, and the counts add up to the four of them.
    for (const m of warned) expect(SERVICES.some((s) => m[1].startsWith(`${s}-`)), m[1]).toBe(true);
    expect(warned.reduce((n, m) => n + 1 + Number(m[3] ?? 0), 0)).toBe(SERVICES.length);
    expect(warned.map((m) => m[4])).toEqual(['allowPrivilegeEscalation != false, unrestricted capabilities']);
    // The message names no container; the running pods do: in each, the one container without
    // those settings is the operator's init container (the services' own set them: pod-defaults.yaml).
    for (const s of SERVICES) {
      const [pod] = (await json('-n', NS, 'get', 'pods', '-l', `app.kubernetes.io/name=${s}`)).items;
      const lacking = [...pod.spec.initContainers, ...pod.spec.containers]
        .filter((c: any) => c.securityContext?.allowPrivilegeEscalation !== false || !c.securityContext?.capabilities?.drop?.includes('ALL'))
        .map((c: any) => c.name);
      expect(lacking, s).toEqual(['opentelemetry-auto-instrumentation-nodejs']);
    }
  });

  it('stopping the cluster leaves the host as it was', async () => {
    const left = await cluster.stop();
    stopped = true;
    expect(left).toEqual([]);
  }, 240_000);
});
