// Lab 3 on a real single-node cluster built here, for machines without kind (needs root):
//
//   npm run k8s:cluster              build what is missing, start the cluster and the operator,
//                                    import the images, kubectl apply -k k8s, wait until Ready,
//                                    then keep running until Ctrl-C (or `npm run k8s:cluster -- stop`)
//   npm run k8s:cluster -- stop      stop the running one (by the PID in its state file) and wait
//   npm run k8s:cluster -- status    is one running, and where
//
// Stopping tears everything down and checks the host is as it was (scripts/k8s/host.ts): what
// is still different is printed, and the exit code is 1.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../runtime/components.js';
import { startCluster } from './cluster.js';
import { loadLabImages } from './cluster-images.js';
import { k8sDir, renderKustomize } from './manifests.js';

const USAGE = 'usage: npm run k8s:cluster [-- start|stop|status]';
const say = (m: string) => console.log(`[k8s:cluster] ${m}`);
const stateFile = () => join(cacheDir(), 'k8s', 'cluster.json');

interface State {
  pid: number;
  kubeconfig: string;
  kubectl: string;
  dir: string;
  started: string;
}

function running(): State | undefined {
  if (!existsSync(stateFile())) return undefined;
  const state = JSON.parse(readFileSync(stateFile(), 'utf8')) as State;
  try {
    process.kill(state.pid, 0);
    return state;
  } catch {
    rmSync(stateFile(), { force: true }); // left by a process that is gone
    return undefined;
  }
}

async function stop() {
  const state = running();
  if (!state) return say('no cluster is running');
  say(`stopping the cluster of PID ${state.pid} …`);
  process.kill(state.pid, 'SIGTERM');
  const t0 = Date.now();
  while (Date.now() - t0 < 300_000) {
    try {
      process.kill(state.pid, 0);
      await new Promise((r) => setTimeout(r, 500));
    } catch {
      return say(`stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s (its log says what the teardown did)`);
    }
  }
  throw new Error(`PID ${state.pid} is still running after 5 min`);
}

async function start() {
  const other = running();
  if (other) throw new Error(`a cluster is already running (PID ${other.pid}, kubeconfig ${other.kubeconfig}): npm run k8s:cluster -- stop`);
  const t0 = Date.now();
  say('starting the cluster and the OpenTelemetry Operator (a cold build takes ~25 min, then ~30 s) …');
  const cluster = await startCluster({ operator: true });
  let stopping = false;
  const teardown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: tearing down …`);
    const left = await cluster.stop();
    rmSync(stateFile(), { force: true });
    if (left.length) {
      console.error(`the host is not as it was:\n  ${left.join('\n  ')}`);
      process.exit(1);
    }
    if (why === 'failed') process.exit(1);
    say('stopped; the host is as it was (no process, mount, link, netfilter table, sysctl, cgroup or path left)');
    process.exit(0);
  };
  process.on('SIGINT', () => void teardown('Ctrl-C'));
  process.on('SIGTERM', () => void teardown('stop requested'));
  try {
    say("importing the lab's images into the node …");
    await loadLabImages(cluster, await renderKustomize());
    say('kubectl apply -k k8s …');
    const applied = await cluster.kubectl(['apply', '-k', k8sDir]);
    if (applied.stderr.trim()) console.log(applied.stderr.trim());
    say('waiting for every workload to be Ready …');
    for (let i = 0; i < 30; i++) {
      const r = await cluster.kubectl(['-n', 'otel-lab', 'get', 'statefulset/sampler-collector', 'deployment/lb-collector'], { allowFail: true });
      if (r.code === 0) break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    await cluster.kubectl(['-n', 'otel-lab', 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=300s']);
    const svc = async (name: string) => JSON.parse((await cluster.kubectl(['-n', 'otel-lab', 'get', 'svc', name, '-o', 'json'])).stdout).spec.clusterIP;
    const state: State = {
      pid: process.pid,
      kubeconfig: cluster.kubeconfig,
      kubectl: cluster.artifacts.kubectl,
      dir: cluster.dir,
      started: new Date().toISOString(),
    };
    writeFileSync(stateFile(), JSON.stringify(state, null, 2));
    const k = `KUBECONFIG=${cluster.kubeconfig} KUBERC=off ${cluster.artifacts.kubectl}`;
    console.log(`
Lab 3 is running on node ${cluster.nodeName} (${cluster.nodeIp}), ready ${((Date.now() - t0) / 1000).toFixed(0)} s after start.
The load generator sends orders for 10 minutes; Service addresses are reachable from this machine:

  Jaeger (traces the tail sampler kept)   http://${await svc('jaeger')}:16686
  Prometheus                              http://${await svc('prometheus')}:9090
  Send an order                           curl -si -X POST http://${await svc('gateway')}:8080/orders -H 'content-type: application/json' -d '{}'
  kubectl                                 ${k} -n otel-lab get pods
  logs of every component                 ${cluster.dir}

Ctrl-C (or npm run k8s:cluster -- stop) tears it all down.`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    await teardown('failed');
  }
}

const cmd = process.argv[2] ?? 'start';
const actions: Record<string, () => Promise<void>> = {
  start,
  stop,
  async status() {
    const s = running();
    say(s ? `running: PID ${s.pid} since ${s.started}, kubeconfig ${s.kubeconfig}, logs ${s.dir}` : 'no cluster is running');
  },
};
if (!actions[cmd]) {
  console.error(USAGE);
  process.exit(2);
}
actions[cmd]().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
