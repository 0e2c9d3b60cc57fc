// What scripts/k8s/control-plane.sh builds (or finds in the cache): the control plane's
// binaries, the operator release's files, where kubectl keeps its cache, and the node's
// binaries and images. The script is the
// one source of those paths (and of the cache rule, scripts/build/lib.sh): this file only reads
// its `name=path` lines.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../runtime/components.js';

export type ControlPlaneArtifacts = Record<
  | 'etcd'
  | 'kube-apiserver'
  | 'kubectl'
  | 'kubectl-cache'
  | 'operator'
  | 'operator-crds'
  | 'operator-versions'
  | 'operator-nodejs'
  | 'operator-webhooks'
  // The node (scripts/k8s/cluster.ts).
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'containerd'
  | 'containerd-shim-runc-v2'
  | 'ctr'
  | 'node-images'
  | 'target-allocator-image',
  string
>;

let built: Promise<ControlPlaneArtifacts> | undefined;

/**
 * Builds (or finds in the cache) the control plane's binaries. Cold: ~7 min on 2 cores, with
 * progress on stderr; cached: instant. Rejects with the script's own message (e.g. what to install).
 */
export function controlPlaneArtifacts(): Promise<ControlPlaneArtifacts> {
  built ??= new Promise((resolve, reject) => {
    const script = join(repoRoot, 'scripts', 'k8s', 'control-plane.sh');
    const child = spawn('bash', [script, 'build'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      process.stderr.write(d); // a cold build shows its progress
    });
    child.once('error', (e) => reject(new Error(`could not run ${script}: ${e.message}`)));
    child.once('exit', (code) => {
      if (code !== 0) {
        const tail = err.trim().split('\n').slice(-8).join('\n');
        return reject(new Error(`the Kubernetes control plane could not be built (${script}):\n${tail}`));
      }
      const paths: Record<string, string> = Object.fromEntries(
        out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const missing = ['etcd', 'kube-apiserver', 'kubectl', 'kubectl-cache', 'operator'].filter((k) => !paths[k]);
      if (missing.length) return reject(new Error(`${script} printed no ${missing.join(', ')} line`));
      resolve(paths as ControlPlaneArtifacts);
    });
  });
  return built;
}
