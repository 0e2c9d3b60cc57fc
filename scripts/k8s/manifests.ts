// Lab 3's manifests as objects: kustomize's rendering of k8s/ (by the project's kubectl), the
// names tests and messages give them, and the few objects the tests derive from them (the Pod
// a workload would create, the same object in another namespace, namespaces to check pods in).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot, runDir } from '../runtime/components.js';
import { controlPlaneArtifacts } from './artifacts.js';
import type { ControlPlane } from './control-plane.js';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [key: string]: any;
};

/** The objects of a YAML stream (kubectl's output or a manifest), `List`s unpacked. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o): o is K8sObject => o && typeof o === 'object' && 'kind' in o)
    .flatMap((o) => (o.kind === 'List' ? (o.items as K8sObject[]) : [o]));
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

/** The same object in another namespace (to check it against another namespace's rules). */
export function inNamespace(o: K8sObject, namespace: string): K8sObject {
  return { ...structuredClone(o), metadata: { ...structuredClone(o.metadata), namespace } };
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
