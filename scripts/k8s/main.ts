// Lab 3 without kind: what the OpenTelemetry Operator's webhook does to each service's pod, and
// the services run natively as those pods would run them, with one order traced.
//
//   npm run lab:k8s            (checks Node, builds the collector, Kafka and the control plane first)
//   tsx scripts/k8s/main.ts [--help]
//
// Starts a local control plane (etcd, kube-apiserver, the operator: scripts/k8s/control-plane.ts),
// applies the lab's namespace and Instrumentation (k8s/), lists what the webhook injected into
// the four service pods, then starts the services with exactly the pods' environment and the
// lab's auto-instrumentation image (assembled natively), places one order, prints its trace
// and stops everything (with --console: serves the workshop console, whose Lab 3 tab shows each
// pod as a diff against its Deployment's template, until Ctrl-C). The kind walkthrough is scripts/k8s/up.sh (docs/k8s.md).
import { parseArgs } from 'node:util';
import { startConsole } from '../console/server.js';
import { stopAll } from '../runtime/process.js';
import { SERVICE_NAMES } from '../runtime/services.js';
import { startControlPlane } from './control-plane.js';
import { INJECTED_MOUNT, injectedPods, runInjected, type InjectedPod } from './injection.js';

const USAGE = 'usage: tsx scripts/k8s/main.ts [--console] [--help]   (or: npm run lab:k8s)';
const step = (msg: string) => console.log(`[lab:k8s] ${msg}`);

/** As written into the pod: values, or where a kubelet would take them from (downward API). */
const rawEnv = (container: any): Record<string, string> =>
  Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? `<${e.valueFrom?.fieldRef?.fieldPath ?? 'valueFrom'}>`]));

/** What the webhook added to one pod, in four lines. */
function describeInjection({ deployment, pod }: InjectedPod, name: string): string[] {
  const before = deployment.spec.template.spec;
  const init = pod.spec.initContainers.find((c: any) => c.name.startsWith('opentelemetry-auto-instrumentation'));
  // kube-api-access-* is the API server's ServiceAccount admission, not the operator.
  const volumes = pod.spec.volumes.filter(
    (v: any) => !(before.volumes ?? []).some((b: any) => b.name === v.name) && !v.name.startsWith('kube-api-access-'),
  );
  const app = pod.spec.containers.find((c: any) => c.name === name);
  const mount = (v: string) => app.volumeMounts.find((m: any) => m.name === v)?.mountPath ?? 'not mounted in the app';
  return [
    `${name}:`,
    `  init container  ${init.name} (${init.image}): ${init.command.join(' ')}`,
    ...volumes.map((v: any) => `  volume          ${v.name} (${Object.keys(v).find((k) => k !== 'name')}), mounted at ${mount(v.name)}`),
    `  NODE_OPTIONS    ${rawEnv(app).NODE_OPTIONS.trim()}`,
    `  service name    ${rawEnv(app).OTEL_SERVICE_NAME}`,
  ];
}

async function main() {
  const { values } = parseArgs({ options: { help: { type: 'boolean', default: false }, console: { type: 'boolean', default: false } } });
  if (values.help) {
    console.log(`${USAGE}\n\n${'Lab 3 without kind: the operator injects the service pods, the services run as those pods would.'}`);
    return;
  }
  const t0 = Date.now();
  step('starting the control plane and the OpenTelemetry Operator (a cold build takes ~7 min) …');
  const cp = await startControlPlane();
  step("applying the lab's namespace and Instrumentation (k8s/), creating each service's pod (dry-run) …");
  const pods = await injectedPods(cp);
  await cp.stop();
  console.log(`\nWhat the operator's webhook injected (the app's container mounts ${INJECTED_MOUNT}):\n`);
  for (const name of SERVICE_NAMES) console.log(describeInjection(pods[name], name).join('\n'));
  const gateway = rawEnv(pods.gateway.pod.spec.containers.find((c: any) => c.name === 'gateway'));
  console.log(`\nEnvironment added to each service's container (the gateway's; the others differ only by name):`);
  for (const k of Object.keys(pods.gateway.env)) console.log(`  ${k}=${gateway[k]}`);

  const app = values.console
    ? await startConsole({ components: () => [], k8s: { pods } }, { port: Number(process.env.LAB_CONSOLE_PORT ?? 8090) })
    : undefined;
  if (app) step(`workshop console: ${app.url}/#lab3`);

  const run = await runInjected('lab', 'lab-k8s', { pods, progress: (s) => step(`${s} …`) });
  const perService = SERVICE_NAMES.map((s) => `${s} ${run.trace.filter((x) => x.service === s).length}`);
  console.log(`\nOne order (${run.orderId}), trace ${run.trace[0].traceId}: ${run.trace.length} spans (${perService.join(', ')})`);
  console.log(`  gateway's traceresponse: ${run.traceresponse ?? 'none'}`);
  console.log('  k8s.* resource attributes, from the injected OTEL_RESOURCE_ATTRIBUTES (downward API as emulated here: pod <service>-local, node local-node):');
  for (const s of SERVICE_NAMES) {
    const resource = run.trace.find((x) => x.service === s)!.resource;
    const k8s = Object.entries(resource).filter(([k]) => k.startsWith('k8s.')).map(([k, v]) => `${k}=${v}`);
    console.log(`    ${s.padEnd(11)} ${k8s.join(' ')}`);
  }
  step(`stopping everything (took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  await run.services.stop();
  if (app) {
    step('the console stays up: Ctrl-C stops it');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await app.close();
  }
}

main()
  .catch((err) => {
    console.error(`lab:k8s: ${(err as Error).message}\n${USAGE}`);
    process.exitCode = 1;
  })
  // exit(): a console's server (--console) would otherwise keep a failed run alive.
  .finally(() => stopAll().then(() => process.exit()));
