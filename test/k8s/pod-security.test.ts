// Pod Security, checked by the API server's own admission. Every pod the lab writes meets the
// "restricted" standard, proven in a namespace that enforces it; there, a pod that drops one of
// the lab's settings is refused, and the refusal names the pod, the container and the field.
// The lab's namespace itself enforces "baseline" and warns on "restricted" (k8s/namespace.yaml:
// operator v0.148.0's injected init container would not pass).
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import {
  ensureDefaultServiceAccount,
  idOf,
  inNamespace,
  podFromTemplate,
  renderKustomize,
  restrictedNamespace,
  type K8sObject,
} from '../../scripts/k8s/manifests.js';

describe('Pod Security admission of the lab\'s pods', () => {
  useLab();
  let cp: ControlPlane;
  let objects: K8sObject[];
  let restricted: string;
  beforeAll(async () => {
    cp = await startControlPlane({ operator: false });
    objects = await renderKustomize();
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, 'otel-lab');
    restricted = await restrictedNamespace(cp);
  }, 15 * 60_000);

  const workloads = () => objects.filter((o) => o.spec?.template?.spec);
  /** The gateway Deployment with one change to its (only) container. */
  const gatewayWith = (change: (container: any) => void): K8sObject => {
    const copy = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!);
    change(copy.spec.template.spec.containers[0]);
    return copy;
  };

  it('every pod the lab writes (services, Kafka, Prometheus, Jaeger, load generator) meets "restricted"', async () => {
    expect(workloads().length).toBeGreaterThanOrEqual(8);
    for (const w of workloads()) {
      const pod = podFromTemplate(inNamespace(w, restricted));
      delete pod.spec.serviceAccountName; // the namespace's default one: admission is what is checked
      const res = await cp.dryRun([pod]);
      expect(res.stderr, `${idOf(w)}'s pod in a "restricted" namespace`).toBe('');
      expect(res.code).toBe(0);
    }
  });

  it('"restricted" refuses a pod that allows privilege escalation, naming the pod, the container and the field', async () => {
    const pod = podFromTemplate(inNamespace(gatewayWith((c) => (c.securityContext.allowPrivilegeEscalation = true)), restricted));
    const res = await cp.dryRun([pod]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('pods "gateway" is forbidden: violates PodSecurity "restricted:latest"');
    expect(res.stderr).toContain(
      'allowPrivilegeEscalation != false (container "gateway" must set securityContext.allowPrivilegeEscalation=false)',
    );
  });

  it('"restricted" refuses a pod that keeps Linux capabilities, naming the field', async () => {
    const pod = podFromTemplate(inNamespace(gatewayWith((c) => delete c.securityContext.capabilities), restricted));
    const res = await cp.dryRun([pod]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('unrestricted capabilities (container "gateway" must set securityContext.capabilities.drop=["ALL"])');
  });

  it('the lab namespace refuses a privileged pod ("baseline" is enforced)', async () => {
    const res = await cp.dryRun([podFromTemplate(gatewayWith((c) => (c.securityContext = { privileged: true })))]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('pods "gateway" is forbidden: violates PodSecurity "baseline:latest": privileged (container "gateway" must not set securityContext.privileged=true)');
  });

  it('the lab namespace warns, naming the field, when a Deployment\'s pods would break "restricted"', async () => {
    const res = await cp.dryRun([gatewayWith((c) => (c.securityContext.allowPrivilegeEscalation = true))]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "gateway"/);
  });
});
