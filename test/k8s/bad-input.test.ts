// Mistakes a lab user makes in the manifests, and what the real API server and the operator
// answer: each message is checked as the server words it, so the walkthrough can quote it.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import { renderKustomize, type K8sObject } from '../../scripts/k8s/manifests.js';

describe('bad input is refused with a message that names the mistake', () => {
  useLab();
  let cp: ControlPlane;
  let objects: K8sObject[];
  beforeAll(async () => {
    cp = await startControlPlane();
    objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
  }, 15 * 60_000);

  const find = (kind: string, name: string) =>
    structuredClone(objects.find((o) => o.kind === kind && o.metadata.name === name)!);

  it('a typo in a field name is a strict decoding error naming the field', async () => {
    const inst = find('Instrumentation', 'nodejs');
    inst.spec.exporterr = inst.spec.exporter;
    delete inst.spec.exporter;
    const res = await cp.dryRun([inst]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('strict decoding error: unknown field "spec.exporterr"');
  });

  it('a typo inside a Deployment is caught the same way', async () => {
    const dep = find('Deployment', 'gateway');
    dep.spec.template.spec.containers[0].imagePullPolcy = 'Never';
    const res = await cp.dryRun([dep]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('unknown field "spec.template.spec.containers[0].imagePullPolcy"');
  });

  it('an unsupported collector mode is refused by the CRD schema, listing the supported ones', async () => {
    const lb = find('OpenTelemetryCollector', 'lb');
    lb.spec.mode = 'deploymnet';
    const res = await cp.dryRun([lb]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('spec.mode: Unsupported value: "deploymnet"');
    expect(res.stderr).toMatch(/supported values: .*"deployment".*"statefulset"/);
  });

  it('a sampler argument outside [0, 1] is refused by the operator\'s validating webhook', async () => {
    const inst = find('Instrumentation', 'nodejs');
    inst.spec.sampler.argument = '5';
    const res = await cp.dryRun([inst]);
    expect(res.code).not.toBe(0);
    // The operator's own wording, typo included.
    expect(res.stderr).toContain('admission webhook "vinstrumentationcreateupdate.kb.io" denied the request');
    expect(res.stderr).toContain('spec.sampler.argument should be in rage [0..1]: 5');
  });

  it('a collector pipeline that uses an undefined exporter passes the operator (the lab\'s validate test catches it)', async () => {
    const lb = find('OpenTelemetryCollector', 'lb');
    lb.spec.config.service.pipelines.traces.exporters.push('otlp_grpc/nowhere');
    const res = await cp.dryRun([lb]);
    // Why test/k8s/collector-configs.test.ts runs every embedded config through `otelcol validate`.
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});
