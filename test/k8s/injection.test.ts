// The operator's own pod-mutating webhook does the injection: each service's pod template,
// created as a Pod (dry-run) in the lab's namespace, comes back auto-instrumented. Field by
// field, this is what makes a service with no OpenTelemetry code send traces and metrics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, versions, waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { telemetryEnv } from '../../scripts/runtime/services.js';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import { INJECTED_MOUNT, waitForMutation } from '../../scripts/k8s/injection.js';
import {
  ensureDefaultServiceAccount,
  inNamespace,
  podFromTemplate,
  renderKustomize,
  restrictedNamespace,
  type K8sObject,
} from '../../scripts/k8s/manifests.js';

const SERVICES = ['gateway', 'orders', 'payments', 'fulfillment'];
const MOUNT = INJECTED_MOUNT;

describe('the OpenTelemetry Operator injects Node.js auto-instrumentation into the lab services', () => {
  useLab();
  let cp: ControlPlane;
  let objects: K8sObject[];
  let instrumentation: K8sObject;
  const mutated = new Map<string, K8sObject>();

  beforeAll(async () => {
    cp = await startControlPlane();
    objects = await renderKustomize();
    instrumentation = objects.find((o) => o.kind === 'Instrumentation')!;
    // The webhook reads the Instrumentation from the operator's cache: it must exist for real.
    await cp.apply(objects.filter((o) => o.kind === 'Namespace'));
    await ensureDefaultServiceAccount(cp, 'otel-lab');
    await cp.apply([instrumentation]);
    for (const name of SERVICES) {
      const pod = podFromTemplate(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!);
      // Until the operator's cache has the Instrumentation, pods pass through unchanged.
      mutated.set(name, await waitForMutation(cp, pod));
    }
  }, 15 * 60_000);

  const init = (name: string) =>
    mutated.get(name)!.spec.initContainers.find((c: any) => c.name === 'opentelemetry-auto-instrumentation-nodejs');
  const app = (name: string) => mutated.get(name)!.spec.containers.find((c: any) => c.name === name);
  const env = (name: string) => Object.fromEntries(app(name).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  it('operator v0.148.0 leaves its init container without the app\'s securityContext, so "restricted" refuses the pod (open-telemetry/opentelemetry-operator#4848)', async () => {
    // Why k8s/namespace.yaml enforces "baseline" and only warns on "restricted". When this fails,
    // the operator copies the securityContext again: enforce "restricted" in namespace.yaml.
    const ns = await restrictedNamespace(cp);
    await cp.apply([inNamespace(instrumentation, ns)]);
    const gateway = podFromTemplate(inNamespace(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!, ns));
    const res = await waitFor(
      async () => {
        const r = await cp.dryRun([gateway]);
        return r.stderr.includes('opentelemetry-auto-instrumentation-nodejs') && r;
      },
      { what: 'the operator to inject the gateway pod in a "restricted" namespace', timeoutMs: 30_000 },
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(
      'allowPrivilegeEscalation != false (container "opentelemetry-auto-instrumentation-nodejs" must set securityContext.allowPrivilegeEscalation=false)',
    );
    expect(init('gateway').securityContext).toBeUndefined();
  });

  for (const name of SERVICES) {
    describe(name, () => {
      it('gets an init container that copies the auto-instrumentation into a shared emptyDir', () => {
        const pod = mutated.get(name)!;
        const copier = init(name);
        expect(copier, 'init container opentelemetry-auto-instrumentation-nodejs').toBeDefined();
        // The lab's own image (images/autoinstrumentation-nodejs), not the operator's default.
        expect(copier.image).toBe(instrumentation.spec.nodejs.image);
        expect(copier.image).toBe(versions().LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE);
        expect(copier.imagePullPolicy).toBe(instrumentation.spec.imagePullPolicy);
        expect(copier.command).toEqual(['cp', '-r', '/autoinstrumentation/.', MOUNT]);
        expect(copier.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: MOUNT }));
        const volumeName = copier.volumeMounts.find((m: any) => m.mountPath === MOUNT).name;
        expect(pod.spec.volumes).toContainEqual(expect.objectContaining({ name: volumeName, emptyDir: expect.anything() }));
        expect(app(name).volumeMounts).toContainEqual(expect.objectContaining({ name: volumeName, mountPath: MOUNT }));
      });

      it('is admitted by the lab namespace\'s Pod Security level once injected', () => {
        // The dry-run that produced the mutated pod went through admission after the webhook.
        expect(mutated.get(name)!.metadata.namespace).toBe('otel-lab');
        expect(init(name).resources).toEqual(instrumentation.spec.nodejs.resourceRequirements);
      });

      it('loads the auto-instrumentation with NODE_OPTIONS --require, before the service code', () => {
        expect(env(name).NODE_OPTIONS).toBe(` --require ${MOUNT}/autoinstrumentation.js`);
        // The image's own entry runs the service; zero-code mode is the one without the project's SDK.
        expect(app(name).command).toBeUndefined();
        expect(env(name)).toMatchObject({ SERVICE: name, LAB_INSTRUMENTATION: 'zero-code' });
        const entry = readFileSync(join(repoRoot, 'services/start.sh'), 'utf8');
        const zeroCode = entry.split('\n').find((l) => /^\s*zero-code\b/.test(l));
        expect(zeroCode, 'services/start.sh: the zero-code case').toMatch(/exec node "\/app\/services\/\$SERVICE\/main\.js"/);
      });

      it('names the service, and exports to the lab\'s load-balancing collector', () => {
        expect(env(name).OTEL_SERVICE_NAME).toBe(name);
        expect(env(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://lb-collector:4318');
        expect(env(name).OTEL_EXPORTER_OTLP_ENDPOINT).toBe(instrumentation.spec.exporter.endpoint);
      });

      it('propagates W3C trace context and baggage, and samples parent-based by trace-id ratio', () => {
        expect(env(name).OTEL_PROPAGATORS).toBe('tracecontext,baggage');
        expect(env(name).OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
        expect(env(name).OTEL_TRACES_SAMPLER_ARG).toBe(instrumentation.spec.sampler.argument);
      });

      it('describes where it runs with k8s.* resource attributes filled from the downward API', () => {
        const attrs = Object.fromEntries(
          env(name).OTEL_RESOURCE_ATTRIBUTES.split(',').map((kv: string) => kv.split('=')),
        );
        expect(attrs).toMatchObject({
          'k8s.namespace.name': 'otel-lab',
          'k8s.container.name': name,
          'k8s.pod.name': '$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)',
          'k8s.node.name': '$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME)',
          'k8s.pod.uid': '$(OTEL_RESOURCE_ATTRIBUTES_POD_UID)',
          'deployment.environment.name': 'otel-lab-kind',
        });
        expect(env(name).OTEL_RESOURCE_ATTRIBUTES_POD_NAME).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
        expect(env(name).OTEL_RESOURCE_ATTRIBUTES_NODE_NAME).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } });
      });

      it('gets the same OTEL_* settings as the lab\'s services everywhere else (services/telemetry.env)', () => {
        const shared = Object.entries(telemetryEnv());
        expect(shared.length, 'services/telemetry.env settings').toBeGreaterThan(0);
        for (const [key, value] of shared) {
          if (key === 'OTEL_RESOURCE_ATTRIBUTES') {
            for (const kv of value.split(',')) expect(env(name)[key].split(','), key).toContain(kv);
          } else expect(env(name)[key], key).toBe(value);
        }
      });
    });
  }
});
