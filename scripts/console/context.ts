// What the workshop console reads, and nothing else: the addresses of the real backends' APIs
// (Prometheus, Jaeger's query API, the collectors' own metrics, the gateway) and, when the
// process serving the console runs them, a sampling topology (Lab 2) or the operator's injected
// pods (Lab 3). Panels (panels/*.ts) take this and return a view (view.ts).
import { connect } from 'node:net';
import type { InjectedPod } from '../k8s/injection.js';
import type { TraceIds } from '../sampling/report.js';
import type { Topology } from '../sampling/topology.js';

export interface ComponentInfo {
  name: string;
  role: string;
  /** Where a person reaches it (URL or host:port). */
  address: string;
  /** An http(s) URL that answers 2xx when healthy, or tcp://host:port (a port that accepts). */
  health: string;
  /** Its log file, or the command that shows its log (compose: `docker compose logs <service>`). */
  log: string;
  /** Its own metrics (Prometheus text), for a collector. */
  telemetry?: string;
}

export interface SamplingSource {
  /** e.g. "tail sampling, direct" */
  title: string;
  topology: Topology;
  /** The trace ids sent so far, per traffic category (grows while traffic runs). */
  traceIds(): TraceIds;
}

export interface ConsoleContext {
  /** Called on every request: components can be restarted (new log file) while the console runs. */
  components(): ComponentInfo[];
  prometheusUrl?: string;
  jaegerUrl?: string;
  gatewayUrl?: string;
  /** Lab 2: a running sampling topology (`npm run lab:sampling -- --console`). */
  sampling?: SamplingSource;
  /** Lab 3: each service's Deployment and the Pod the operator's webhook made of it (`npm run lab:k8s -- --console`). */
  k8s?: { pods: Record<string, InjectedPod> };
}

/** Why a component is unhealthy, or undefined when it answers. */
export async function healthProblem(c: ComponentInfo): Promise<string | undefined> {
  if (c.health.startsWith('tcp://')) {
    const { hostname, port } = new URL(c.health);
    return new Promise((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) });
      const done = (why?: string) => {
        socket.destroy();
        resolve(why);
      };
      socket.setTimeout(1500, () => done(`no answer on ${hostname}:${port}`));
      socket.once('connect', () => done());
      socket.once('error', (err) => done(`${hostname}:${port}: ${err.message}`));
    });
  }
  try {
    const res = await fetch(c.health, { signal: AbortSignal.timeout(1500) });
    return res.ok ? undefined : `${c.health} answered HTTP ${res.status}`;
  } catch (err) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause.
    const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
    const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
    const said: Record<string, string> = {
      ECONNREFUSED: 'connection refused (not running?)',
      UND_ERR_SOCKET: 'connection closed while answering (stopping?)',
      ECONNRESET: 'connection reset',
    };
    return `${c.health}: ${said[why] ?? why}`;
  }
}
