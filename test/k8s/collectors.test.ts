// The collector tiers of Lab 3 as the operator builds them. The operator validates a CR's
// shape, not its pipelines, so every embedded config also goes through the lab's own collector
// build (`otelcol validate`). Then the whole lab is created for real: the operator turns each
// OpenTelemetryCollector into Services and workloads, and every endpoint the lab configures
// must land on one of those Services, on a port a container actually listens on.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { artifact, repoRoot, runDir, validateCollectorConfig, waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import {
  ensureDefaultServiceAccount,
  idOf,
  podFromTemplate,
  renderKustomize,
  restrictedNamespace,
  type K8sObject,
} from '../../scripts/k8s/manifests.js';

const NS = 'otel-lab';
// What the operator makes of the three collectors (names are <cr>-collector, <cr>-targetallocator).
const OPERATOR_WORKLOADS = [
  'Deployment/otel-lab/lb-collector',
  'StatefulSet/otel-lab/sampler-collector',
  'StatefulSet/otel-lab/metrics-collector',
  'Deployment/otel-lab/metrics-targetallocator',
];

describe('the collector tiers, as the operator deploys them', () => {
  useLab();
  let cp: ControlPlane;
  let objects: K8sObject[];
  let services: K8sObject[];
  let workloads: K8sObject[];
  beforeAll(async () => {
    cp = await startControlPlane();
    objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, NS);
    await cp.apply(objects.filter((o) => o.kind !== 'Namespace'));
    const list = async () => {
      const [deployments, statefulsets] = await Promise.all([cp.list('deployments', NS), cp.list('statefulsets', NS)]);
      return [...deployments, ...statefulsets].map((o) => ({ ...o, kind: o.kind ?? '' }));
    };
    workloads = await waitFor(
      async () => {
        const all = await list();
        const ids = all.map(idOf);
        return OPERATOR_WORKLOADS.every((id) => ids.includes(id)) && all;
      },
      { what: `the operator to create ${OPERATOR_WORKLOADS.join(', ')}`, timeoutMs: 60_000 },
    );
    services = await cp.list('services', NS);
  }, 15 * 60_000);

  const collectors = () => objects.filter((o) => o.kind === 'OpenTelemetryCollector');

  it('every collector config embedded in an OpenTelemetryCollector passes the lab collector\'s `validate`', async () => {
    const dir = runDir('k8s-collector-configs');
    for (const c of collectors()) {
      const file = join(dir, `${c.metadata.name}.yaml`);
      writeFileSync(file, stringify(c.spec.config));
      // `validate` builds the pipelines: the lb tier's k8s resolver needs a kubeconfig (this API server).
      await validateCollectorConfig(file, { KUBECONFIG: cp.kubeconfig }); // rejects with the collector's own message
    }
    expect(collectors().map((c) => c.metadata.name).sort()).toEqual(['lb', 'metrics', 'sampler']);
  });

  it('`validate` exits non-zero, naming the exporter, for a pipeline that uses an undefined one (the operator lets it pass: bad-input.test.ts)', () => {
    const lb = structuredClone(collectors().find((c) => c.metadata.name === 'lb')!.spec.config);
    lb.service.pipelines.traces.exporters.push('otlp_grpc/nowhere');
    const file = join(runDir('k8s-collector-configs'), 'lb-broken.yaml');
    writeFileSync(file, stringify(lb));
    const res = spawnSync(artifact('collector'), ['validate', `--config=${file}`], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: cp.kubeconfig },
    });
    expect(res.status, res.stderr).not.toBe(0);
    expect(res.stderr).toContain('service::pipelines::traces: references exporter "otlp_grpc/nowhere" which is not configured');
  });

  it('the load-balancing tier routes by trace id to the tail-sampling tier through the k8s resolver', () => {
    const lb = collectors().find((c) => c.metadata.name === 'lb')!.spec;
    const sampler = collectors().find((c) => c.metadata.name === 'sampler')!.spec;
    expect(lb.mode).toBe('deployment');
    expect(sampler.mode).toBe('statefulset');
    expect(lb.config.exporters.loadbalancing.routing_key).toBe('traceID');
    expect(lb.config.exporters.loadbalancing.resolver.k8s.service).toBe('sampler-collector-headless.otel-lab');
    expect(lb.config.service.pipelines.traces.exporters).toEqual(['loadbalancing']);
    expect(sampler.config.service.pipelines.traces.processors).toContain('tail_sampling');
  });

  it('the tail-sampling tier keeps the same traces as the lab\'s collector/sampler.yaml (same processors, same order)', () => {
    const lab = parse(readFileSync(join(repoRoot, 'collector/sampler.yaml'), 'utf8'));
    const k8s = collectors().find((c) => c.metadata.name === 'sampler')!.spec.config;
    expect(k8s.processors).toEqual(lab.processors);
    expect(k8s.service.pipelines.traces.processors).toEqual(lab.service.pipelines.traces.processors);
  });

  it('every endpoint in the collectors, the Instrumentation and the services lands on a Service port that a container listens on', () => {
    const endpoints = endpointsOf(objects);
    expect(endpoints.length).toBeGreaterThan(8);
    const problems = endpoints.map((e) => resolve(e, services, workloads)).filter((p): p is string => !!p);
    expect(problems).toEqual([]);
  });

  it('the operator gives every collector pod probes, limits and a "restricted" security context', async () => {
    // Admitted in a namespace that ENFORCES "restricted": the exit code says refused or not,
    // and no warning either (the lab's own namespace only warns).
    const ns = await restrictedNamespace(cp);
    for (const id of OPERATOR_WORKLOADS) {
      const w = structuredClone(workloads.find((o) => idOf(o) === id)!);
      expect(w.spec.template.spec.containers.length, `${id}: containers`).toBeGreaterThan(0);
      for (const c of w.spec.template.spec.containers) {
        expect(c.livenessProbe, `${id} ${c.name}: livenessProbe`).toBeDefined();
        expect(c.readinessProbe, `${id} ${c.name}: readinessProbe`).toBeDefined();
        expect(c.resources?.limits, `${id} ${c.name}: limits`).toBeDefined();
      }
      const pod = podFromTemplate({ ...w, metadata: { name: w.metadata.name, namespace: ns } });
      // The operator made its ServiceAccount in otel-lab only: admission is what is checked here.
      delete pod.spec.serviceAccountName;
      delete pod.spec.serviceAccount;
      const res = await cp.dryRun([pod]);
      expect(res.code, `${id}: a pod of it in "${ns}": ${res.stderr}`).toBe(0);
      expect(res.stderr, `${id}: a pod of it`).toBe('');
    }
  });

  it('the metrics collector gets its scrape targets from the Target Allocator', async () => {
    const configMaps = await cp.list('configmaps', NS);
    const collectorConfig = configMaps.filter((m) => m.metadata.name.startsWith('metrics-collector')).map((m) => Object.values(m.data ?? {}).join('\n')).join('\n');
    expect(collectorConfig).toMatch(/target_allocator:[\s\S]*endpoint: http:\/\/metrics-targetallocator(:80)?\b/);
    const taConfig = configMaps.filter((m) => m.metadata.name.startsWith('metrics-targetallocator')).map((m) => Object.values(m.data ?? {}).join('\n')).join('\n');
    expect(taConfig).toContain('job_name: otel-lab-services');
    expect(taConfig).toContain('allocation_strategy: consistent-hashing');
  });
});

interface Endpoint {
  where: string;
  host: string;
  port: number;
}

/** Every network target the lab configures: exporters, the resolver, the Instrumentation, service URLs. */
function endpointsOf(objects: K8sObject[]): Endpoint[] {
  const out: Endpoint[] = [];
  const add = (where: string, target: string) => {
    const m = /^(?:[a-z]+:\/\/)?([^/:]+):(\d+)/.exec(target);
    if (!m) throw new Error(`${where}: "${target}" is not host:port or a URL with a port`);
    out.push({ where, host: m[1], port: Number(m[2]) });
  };
  for (const o of objects) {
    if (o.kind === 'Instrumentation') add(`${idOf(o)} spec.exporter.endpoint`, o.spec.exporter.endpoint);
    if (o.kind === 'OpenTelemetryCollector') {
      for (const [name, exp] of Object.entries<any>(o.spec.config.exporters ?? {})) {
        if (exp?.endpoint) add(`${idOf(o)} exporters.${name}.endpoint`, exp.endpoint);
        const k8s = exp?.resolver?.k8s;
        if (k8s) for (const p of k8s.ports) add(`${idOf(o)} exporters.${name}.resolver.k8s`, `${k8s.service}:${p}`);
      }
    }
    const spec = o.spec?.template?.spec;
    for (const c of spec?.containers ?? []) {
      for (const e of c.env ?? []) {
        if (/_URL$/.test(e.name)) add(`${idOf(o)} env ${e.name}`, e.value);
        if (e.name === 'KAFKA_BROKERS') for (const b of e.value.split(',')) add(`${idOf(o)} env KAFKA_BROKERS`, b);
      }
      for (const a of [...(c.command ?? []), ...(c.args ?? [])]) if (a.startsWith('--target=')) add(`${idOf(o)} ${a}`, a.slice('--target='.length));
    }
  }
  return out;
}

/** Undefined when the endpoint reaches a listening container through a Service, else what is wrong. */
function resolve(e: Endpoint, services: K8sObject[], workloads: K8sObject[]): string | undefined {
  const [name, namespace = NS] = e.host.split('.');
  if (namespace !== NS) return `${e.where}: ${e.host} is outside the ${NS} namespace`;
  const svc = services.find((s) => s.metadata.name === name);
  if (!svc) return `${e.where}: no Service "${name}" (have: ${services.map((s) => s.metadata.name).join(', ')})`;
  const sp = svc.spec.ports.find((p: any) => p.port === e.port);
  if (!sp) return `${e.where}: Service ${name} has no port ${e.port}`;
  const selector: Record<string, string> = svc.spec.selector ?? {};
  // An empty selector would match every workload below ([].every is true): name it instead.
  if (!Object.keys(selector).length) return `${e.where}: Service ${name} has no selector`;
  const backends = workloads.filter((w) =>
    Object.entries(selector).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v),
  );
  if (!backends.length) return `${e.where}: Service ${name} selects no workload (${JSON.stringify(selector)})`;
  const target = sp.targetPort ?? sp.port;
  const listens = backends.some((w) =>
    w.spec.template.spec.containers.some((c: any) =>
      (c.ports ?? []).some((p: any) => p.containerPort === target || p.name === target),
    ),
  );
  return listens ? undefined : `${e.where}: no container behind Service ${name} listens on ${target}`;
}
