// Lab 3, operator auto-instrumentation: when this process runs the control plane with the
// operator (`npm run lab:k8s -- --console`), what the webhook injected into each service's pod,
// as a diff of the Pod against its Deployment's pod template.
import { diffLines } from 'diff';
import { stringify } from 'yaml';
import { definePanel } from '../panel.js';
import type { Block } from '../view.js';

const OPERATOR_SPEC_FIELDS = ['initContainers', 'volumes'];
const OPERATOR_CONTAINER_FIELDS = ['env', 'volumeMounts'];
const apiServerVolume = (name: string) => name.startsWith('kube-api-access-');

/**
 * The pod's spec with what the API server (not the operator) fills in left out: defaults on
 * fields the template does not set (dnsPolicy, schedulerName, …), and the ServiceAccount token
 * volume. What remains differs from the template only by the operator's doing.
 */
function withoutApiServerDefaults(template: any, pod: any): any {
  const keep = (from: any, like: any, extra: string[]) =>
    Object.fromEntries(Object.entries(from ?? {}).filter(([k]) => k in (like ?? {}) || extra.includes(k)));
  const spec = keep(pod, template, OPERATOR_SPEC_FIELDS);
  if (spec.volumes) spec.volumes = (spec.volumes as any[]).filter((v) => !apiServerVolume(v.name));
  // The API server mounts the token into every container, the injected init container too.
  if (spec.initContainers) {
    spec.initContainers = (spec.initContainers as any[]).map((c) => ({ ...c, volumeMounts: (c.volumeMounts ?? []).filter((m: any) => !apiServerVolume(m.name)) }));
  }
  if (Array.isArray(spec.volumes) && spec.volumes.length === 0 && !template.volumes) delete spec.volumes;
  spec.containers = (pod.containers ?? []).map((c: any) => {
    const before = (template.containers ?? []).find((t: any) => t.name === c.name) ?? {};
    const out = keep(c, before, OPERATOR_CONTAINER_FIELDS);
    if (out.volumeMounts) out.volumeMounts = (out.volumeMounts as any[]).filter((m) => !apiServerVolume(m.name));
    return out;
  });
  return spec;
}

/** The Pod against its template, YAML line by line: '+' added by the webhook, '-' removed, ' ' kept. */
export function injectionDiff(template: any, pod: any): string[] {
  const lines: string[] = [];
  for (const part of diffLines(stringify(template), stringify(withoutApiServerDefaults(template, pod)))) {
    const mark = part.added ? '+' : part.removed ? '-' : ' ';
    for (const line of part.value.replace(/\n$/, '').split('\n')) lines.push(`${mark} ${line}`);
  }
  return lines;
}

export default definePanel({
  id: 'lab3',
  title: 'Lab 3: operator injection',
  order: 40,
  claim: "No OpenTelemetry in the image or the command: the operator's webhook adds an init container, a volume, NODE_OPTIONS and OTEL_* variables to each pod.",
  uses: () => [],
  async render(ctx) {
    if (!ctx.k8s) {
      return {
        state: 'empty',
        blocks: [{ type: 'empty', text: 'No Kubernetes API server runs in this process. Start the control plane and the operator with the console on, and open this tab there:', command: 'npm run lab:k8s -- --console' }],
      };
    }
    return Object.entries(ctx.k8s.pods).map(
      ([name, p]): Block => ({
        type: 'diff',
        caption: `${name}: the Pod the webhook returned, against the Deployment's pod template (+ injected)`,
        lines: injectionDiff(p.deployment.spec.template.spec, p.pod.spec),
      }),
    );
  },
});
