// Lab 3's manifests meet a real API server: `kubectl apply -k k8s` checked object by object
// by kube-apiserver (strict field decoding, the operator's CRD schemas and webhooks, Pod Security
// admission), without a cluster to run them. Pods never start here; what the server accepts is
// what a kind cluster would accept.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { artifact, repoRoot, runDir, versions } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import { idOf, k8sDir, renderKustomize, type K8sObject } from '../../scripts/k8s/manifests.js';

describe('Lab 3 manifests on a real API server', () => {
  useLab();
  let cp: ControlPlane;
  let objects: K8sObject[];
  beforeAll(async () => {
    cp = await startControlPlane();
    objects = await renderKustomize();
  }, 15 * 60_000); // a cold control-plane build takes ~7 min; cached, seconds
  /** The operator release's versions.txt: the images it defaults to. */
  const released = (): Record<string, string> =>
    Object.fromEntries(
      readFileSync(cp.artifacts['operator-versions'], 'utf8')
        .split('\n').filter((l) => /^[a-z-]+=/.test(l)).map((l) => l.split('=')),
    );

  it('renders the whole lab: services, the Instrumentation, three collector tiers, Kafka, Prometheus, Jaeger, a load generator', () => {
    const ids = objects.map(idOf);
    for (const id of [
      'Namespace/otel-lab',
      'Instrumentation/otel-lab/nodejs',
      'OpenTelemetryCollector/otel-lab/lb',
      'OpenTelemetryCollector/otel-lab/sampler',
      'OpenTelemetryCollector/otel-lab/metrics',
      'StatefulSet/otel-lab/kafka',
      'Deployment/otel-lab/prometheus',
      'Deployment/otel-lab/jaeger',
      ...['gateway', 'orders', 'payments', 'fulfillment'].flatMap((s) => [`Deployment/otel-lab/${s}`, `Service/otel-lab/${s}`]),
      'Job/otel-lab/load-generator',
    ]) {
      expect(ids, `${id} is missing from kubectl kustomize k8s`).toContain(id);
    }
  });

  it('every rendered object is accepted by the API server with strict field validation (server-side dry-run)', async () => {
    // Namespaced objects cannot be dry-run into a namespace that does not exist yet.
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    const res = await cp.kubectl(['apply', '-k', k8sDir, '--dry-run=server', '--validate=strict', '-o', 'name'], {
      allowFail: true,
    });
    // No warning either: no deprecated API, and no pod template short of "restricted".
    expect(res.stderr).not.toMatch(/error|unknown field|forbidden|denied|deprecated|PodSecurity/i);
    expect(res.code).toBe(0);
    const accepted = res.stdout.trim().split('\n').sort();
    const expected = objects
      .map((o) => `${o.kind.toLowerCase()}.${group(o.apiVersion)}/${o.metadata.name}`.replace('./', '/'))
      .sort();
    expect(accepted).toEqual(expected);
  });

  it('the namespace enforces Pod Security "baseline" and warns and audits on "restricted"', () => {
    const ns = objects.find((o) => o.kind === 'Namespace')!;
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it('pins every image, and uses the same collector, Kafka, Prometheus and Jaeger releases as the rest of the lab (.env)', async () => {
    const env = versions();
    const images = objects.flatMap(imagesOf);
    for (const { where, image } of images) expect(image, where).toMatch(/^[^:@]+(:[^:]+|@sha256:[0-9a-f]{64})$/);
    for (const { where, image } of images) expect(image, where).not.toMatch(/:latest$/);
    const used = new Set(images.map((i) => i.image));
    for (const key of ['COLLECTOR_IMAGE', 'KAFKA_IMAGE', 'PROMETHEUS_IMAGE', 'JAEGER_IMAGE']) {
      expect([...used], `${key}=${env[key]} (.env)`).toContain(env[key]);
    }
    const collectorImages = images.filter((i) => i.image.includes('opentelemetry-collector'));
    expect(new Set(collectorImages.map((i) => i.image))).toEqual(new Set([env.COLLECTOR_IMAGE]));
    // The services' image is the one docker compose builds (services/Dockerfile), loaded into kind.
    const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
    const servicesImage = compose.services.gateway.image;
    const services = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] === 'otel-lab-services');
    expect(services.length).toBe(8); // 4 Deployments, 4 Services
    for (const i of services.flatMap(imagesOf)) expect(i.image, i.where).toBe(servicesImage);
  });

  it("injects the lab's own Node.js auto-instrumentation image, tagged with package-lock.json's auto-instrumentations-node release (.env)", () => {
    const inst = objects.find((o) => o.kind === 'Instrumentation')!;
    const pinned = versions().LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE;
    expect(inst.spec.nodejs.image).toBe(pinned);
    // The image installs what the lockfile resolves (images/autoinstrumentation-nodejs/pin-versions.cjs):
    // a tag that no longer says so is a stale image.
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
    const version = lock.packages['node_modules/@opentelemetry/auto-instrumentations-node'].version;
    expect(pinned).toBe(`otel-lab/autoinstrumentation-nodejs:${version}`);
    // Not the operator release's default (its older @opentelemetry/api: test/k8s/version-skew.test.ts).
    expect(inst.spec.nodejs.image).not.toContain(`autoinstrumentation-nodejs:${released()['autoinstrumentation-nodejs']}`);
  });

  it('runs the Target Allocator of the operator release the tests run', () => {
    const metrics = objects.find((o) => o.kind === 'OpenTelemetryCollector' && o.spec.targetAllocator?.enabled)!;
    expect(metrics.spec.targetAllocator.image).toBe(
      `ghcr.io/open-telemetry/opentelemetry-operator/target-allocator:v${released().targetallocator}`,
    );
  });

  it('the Prometheus config in its ConfigMap passes `promtool check config`', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus')!.data['prometheus.yml'];
    const file = join(runDir('k8s-prometheus'), 'prometheus.yml');
    writeFileSync(file, config);
    const promtool = join(dirname(artifact('prometheus')), 'promtool');
    const out = execFileSync(promtool, ['check', 'config', file], { encoding: 'utf8' }); // throws with promtool's message
    expect(out).toContain('is valid prometheus config file syntax');
  });

  it('gives every container requests, limits and (except the one-shot Job) readiness and liveness probes', () => {
    // 4 services, Kafka, Prometheus, Jaeger, the load generator: a loop over fewer proves less.
    const workloads = objects.filter((o) => o.spec?.template?.spec);
    expect(workloads.map(idOf).length).toBeGreaterThanOrEqual(8);
    for (const o of workloads) {
      const spec = o.spec.template.spec;
      expect(spec.containers.length, `${idOf(o)}: containers`).toBeGreaterThan(0);
      for (const c of spec.containers) {
        const where = `${idOf(o)} container ${c.name}`;
        expect(c.resources?.requests, `${where}: resources.requests`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.resources?.limits, `${where}: resources.limits`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        if (o.kind === 'Job') continue;
        expect(c.readinessProbe, `${where}: readinessProbe`).toBeDefined();
        expect(c.livenessProbe, `${where}: livenessProbe`).toBeDefined();
      }
    }
    const collectors = objects.filter((o) => o.kind === 'OpenTelemetryCollector');
    expect(collectors.map((c) => c.metadata.name).sort()).toEqual(['lb', 'metrics', 'sampler']);
    for (const c of collectors) {
      expect(c.spec.resources?.limits, `${idOf(c)}: spec.resources.limits`).toBeDefined();
      // The operator derives the collector pods' probes from the health_check extension.
      expect(c.spec.config.service.extensions, `${idOf(c)}: health_check`).toContain('health_check');
    }
  });
});

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

function imagesOf(o: K8sObject): { where: string; image: string }[] {
  const out: { where: string; image: string }[] = [];
  const spec = o.spec?.template?.spec;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) out.push({ where: `${idOf(o)} ${c.name}`, image: c.image });
  if (o.kind === 'OpenTelemetryCollector') {
    out.push({ where: idOf(o), image: o.spec.image });
    if (o.spec.targetAllocator?.enabled) out.push({ where: `${idOf(o)} targetAllocator`, image: o.spec.targetAllocator.image });
  }
  if (o.kind === 'Instrumentation') out.push({ where: `${idOf(o)} nodejs`, image: o.spec.nodejs.image });
  return out;
}
