// Every image Lab 3's manifests name, put into the local cluster's containerd under the very name
// k8s/ uses, so `kubectl apply -k k8s` runs unchanged: no registry is reachable here.
//   - the official images (collector, Prometheus, Jaeger, Kafka): the lab's local stand-ins,
//     built on the project's Docker engine (scripts/docker/images.sh), saved and re-tagged;
//   - the lab's own (services, load generator, Node.js auto-instrumentation): scripts/k8s/images.sh;
//   - the operator's Target Allocator: built from the operator's module (control-plane.sh).
// A name in k8s/ with no stand-in is an error that names it, not an ImagePullBackOff later.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, repoRoot, versions } from '../runtime/components.js';
import { prepareDocker } from '../runtime/docker.js';
import type { Cluster } from './cluster.js';
import type { K8sObject } from './manifests.js';

const run = promisify(execFile);

/** Every image reference in the objects: pod templates, collectors, their Target Allocator, Instrumentations. */
export function imagesOf(objects: K8sObject[]): string[] {
  const found = new Set<string>();
  for (const o of objects) {
    const pod = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) found.add(c.image);
    if (o.kind === 'OpenTelemetryCollector') {
      if (o.spec?.image) found.add(o.spec.image);
      if (o.spec?.targetAllocator?.enabled && o.spec.targetAllocator.image) found.add(o.spec.targetAllocator.image);
    }
    if (o.kind === 'Instrumentation') for (const lang of ['nodejs', 'java', 'python', 'dotnet', 'go']) if (o.spec?.[lang]?.image) found.add(o.spec[lang].image);
  }
  return [...found].sort();
}

export interface ImportedImage {
  /** The name k8s/ uses. */
  name: string;
  /** What stands in for it here. */
  from: string;
}

/** Builds, saves and imports the images `objects` name; resolves with what stands in for each. */
export async function loadLabImages(cluster: Cluster, objects: K8sObject[]): Promise<ImportedImage[]> {
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[k8s-images] ${m}\n`);
  // The project's engine and the local stand-ins (their names exported: COLLECTOR_IMAGE=otel-lab-local/...).
  process.env.LAB_IMAGES ??= 'local';
  await prepareDocker();
  const env = versions();
  const lab = await run('bash', [join(repoRoot, 'scripts/k8s/images.sh'), process.env.NODE_IMAGE!, `otel-lab-local/debian:bookworm`], {
    maxBuffer: 16 << 20,
  }).catch((e) => {
    throw new Error(`building the lab's own images failed (scripts/k8s/images.sh):\n${(e.stderr ?? e.message).trim().split('\n').slice(-15).join('\n')}`);
  });
  // official name (.env) -> local stand-in (what images.sh exported); the lab's own keep their names.
  const standIns = new Map<string, string>();
  for (const v of ['COLLECTOR_IMAGE', 'PROMETHEUS_IMAGE', 'JAEGER_IMAGE', 'KAFKA_IMAGE']) standIns.set(env[v], process.env[v]!);
  for (const name of lab.stdout.trim().split('\n')) standIns.set(name, name);

  const taDir = cluster.artifacts['target-allocator-image'];
  const [taTar, taRef] = readFileSync(join(taDir, 'images.txt'), 'utf8').trim().split(' ');
  const wanted = imagesOf(objects);
  const unknown = wanted.filter((n) => !standIns.has(n) && !/\/target-allocator:/.test(n));
  if (unknown.length) throw new Error(`k8s/ names images the local cluster has no stand-in for: ${unknown.join(', ')} (scripts/k8s/cluster-images.ts)`);

  const saved = join(cacheDir(), 'k8s', 'lab-images');
  mkdirSync(saved, { recursive: true });
  // Two at a time: saving and unpacking are disk-bound, and two overlap one's writes with the other's reads.
  const imported: ImportedImage[] = [];
  const queue = [...wanted];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift()) imported.push(await importOne(name));
  };
  const importOne = async (name: string): Promise<ImportedImage> => {
    if (/\/target-allocator:/.test(name)) {
      await cluster.importImage(join(taDir, taTar), taRef, [name]);
      return { name, from: `${taDir}/${taTar} (the operator module's cmd/otel-allocator)` };
    }
    const local = standIns.get(name)!;
    // Saved once per image id: a rebuilt image gets a new tar, an unchanged one is re-imported as is.
    const id = (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', local])).stdout.trim().replace('sha256:', '').slice(0, 16);
    const tar = join(saved, `${local.replace(/[^a-z0-9.-]+/gi, '_')}-${id}.tar`);
    if (!existsSync(tar)) {
      // The tars of this image's earlier builds are never read again.
      const prefix = `${basename(tar).slice(0, basename(tar).lastIndexOf('-'))}-`;
      for (const old of readdirSync(saved)) if (old.startsWith(prefix)) rmSync(join(saved, old), { force: true });
      await run('docker', ['save', '-o', `${tar}.part`, local]);
      renameSync(`${tar}.part`, tar);
    }
    await cluster.importImage(tar, local, [name]);
    return { name, from: local };
  };
  await Promise.all([worker(), worker()]);
  imported.sort((a, b) => a.name.localeCompare(b.name));
  log(`${imported.length} images in the node in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${imported.map((i) => (i.name === i.from ? i.name : `${i.name} <- ${i.from}`)).join(', ')}`);
  return imported;
}
