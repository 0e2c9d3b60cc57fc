// The real OpenTelemetry Collector (our ocb build), started from the same config files that
// docker compose and k8s use. Those configs spell every listening address as
// ${env:NAME_LISTEN:-0.0.0.0:port} (and the internal telemetry port as ${env:TELEMETRY_PORT:-8888}),
// so here each one gets a free loopback port and no two collectors ever clash.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { artifact, repoRoot, runDir } from './components.js';
import { dockerRuntime, hostUser, image, labMounts, prepareDocker, startContainer } from './docker.js';
import { freePort } from './ports.js';
import { startProcess, watch, type ManagedProcess } from './process.js';
import { httpOk, waitFor } from './wait.js';

export interface CollectorOptions {
  /**
   * A config file, relative to the repo root (e.g. collector/agent.yaml) or absolute; or
   * several, merged by the collector in order (maps merge, lists are replaced: an overlay).
   */
  config: string | string[];
  /** Another collector-based binary (Jaeger v2 is one); default: the lab's ocb build. */
  binary?: string;
  /** Readiness path on HEALTH_LISTEN: '/' for health_check, '/status' for healthcheckv2. */
  healthPath?: string;
  /** A name for logs and errors; defaults to the config's base name. */
  name?: string;
  /** Values for the config's ${env:...} references (exporter endpoints and the like). */
  env?: Record<string, string>;
  /** More command-line flags, for validate and the run alike (e.g. --feature-gates=...). */
  flags?: string[];
  /** Run the binary natively even under LAB_RUNTIME=docker (a distribution with no image there). */
  native?: boolean;
}

export interface Collector {
  name: string;
  /** Every *_LISTEN address of the config, as assigned here (host:port). */
  listen: Record<string, string>;
  /** OTLP/HTTP base URL, if the config has OTLP_HTTP_LISTEN. */
  otlpHttp: string;
  /** OTLP/gRPC host:port, if the config has OTLP_GRPC_LISTEN. */
  otlpGrpc: string;
  /** The collector's own metrics (Prometheus text), if the config exposes TELEMETRY_PORT. */
  telemetryUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

/** Names of the listening addresses a config declares through ${env:NAME_LISTEN...}. */
export function listenVariables(configText: string): string[] {
  const names = new Set<string>();
  for (const m of configText.matchAll(/\$\{env:([A-Z0-9_]+_LISTEN)(?::-[^}]*)?\}/g)) names.add(m[1]);
  return [...names];
}

/**
 * Runs `otelcol validate` on a config with the given environment. Rejects with the
 * collector's own message, so a broken config fails in a second, not as a timeout.
 */
export async function validateCollectorConfig(
  configPaths: string | string[],
  env: Record<string, string> = {},
  binary = artifact('collector'),
  flags: string[] = [],
) {
  const paths = [configPaths].flat();
  try {
    await execFileAsync(binary, ['validate', ...paths.map((p) => `--config=${p}`), ...flags], {
      env: { ...process.env, ...env },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const msg = (e.stderr || e.message).trim().split('\n').slice(-5).join('\n');
    throw new Error(`collector config ${paths.join(' + ')} is invalid:\n${msg}`);
  }
}

/** What a collector needs before it starts, natively or in a container: its files and addresses. */
export interface PreparedCollector {
  configPaths: string[];
  name: string;
  /** The configs' text, concatenated (to find what they declare). */
  text: string;
  listen: Record<string, string>;
  telemetryPort: string;
  /** The environment the configs' ${env:...} references resolve from. */
  env: Record<string, string>;
}

export async function prepareCollector(opts: CollectorOptions): Promise<PreparedCollector> {
  const configPaths = [opts.config].flat().map((c) => (isAbsolute(c) ? c : join(repoRoot, c)));
  const name = opts.name ?? configPaths.map((c) => c.replace(/^.*\//, '').replace(/\.ya?ml$/, '')).join('+');
  const text = configPaths.map((c) => readFileSync(c, 'utf8')).join('\n');
  const listen: Record<string, string> = {};
  for (const v of listenVariables(text)) listen[v] = opts.env?.[v] ?? `127.0.0.1:${await freePort()}`;
  if (!listen.HEALTH_LISTEN) {
    throw new Error(`${configPaths.join(' + ')} has no health_check endpoint \${env:HEALTH_LISTEN:-...}: the lab needs it for readiness`);
  }
  const telemetryPort = opts.env?.TELEMETRY_PORT ?? String(await freePort());
  const env = { ...listen, TELEMETRY_HOST: '127.0.0.1', TELEMETRY_PORT: telemetryPort, ...opts.env };
  return { configPaths, name, text, listen, telemetryPort, env };
}

/** Waits for a started collector's health check, then hands it out. */
export async function readyCollector(
  c: PreparedCollector,
  proc: ManagedProcess,
  opts: { healthPath?: string; what: string; timeoutMs: number },
): Promise<Collector> {
  await waitFor(() => httpOk(`http://${c.listen.HEALTH_LISTEN}${opts.healthPath ?? '/'}`), {
    what: `${opts.what} to report healthy (log: ${proc.logFile})`,
    timeoutMs: opts.timeoutMs,
    intervalMs: 100,
  });
  return {
    name: c.name,
    listen: c.listen,
    otlpHttp: c.listen.OTLP_HTTP_LISTEN ? `http://${c.listen.OTLP_HTTP_LISTEN}` : '',
    otlpGrpc: c.listen.OTLP_GRPC_LISTEN ?? '',
    telemetryUrl: /TELEMETRY_PORT/.test(c.text) ? `http://127.0.0.1:${c.telemetryPort}/metrics` : '',
    process: proc,
    stop: () => proc.stop(),
  };
}

export async function startCollector(opts: CollectorOptions): Promise<Collector> {
  // LAB_RUNTIME=docker: the same config files in the collector image, through testcontainers.
  if (dockerRuntime() && !opts.native) return startCollectorInDocker(opts);
  const c = await prepareCollector(opts);
  const binary = opts.binary ?? artifact('collector');
  await validateCollectorConfig(c.configPaths, c.env, binary, opts.flags);

  const dir = runDir(`collector-${c.name}`);
  const proc = startProcess({
    name: `collector ${c.name}`,
    command: binary,
    args: [...c.configPaths.map((p) => `--config=${p}`), ...(opts.flags ?? [])],
    logFile: join(dir, 'collector.log'),
    env: c.env,
  });
  watch(proc);
  return readyCollector(c, proc, { healthPath: opts.healthPath, what: `collector ${c.name}`, timeoutMs: 20_000 });
}

/** startCollector, in a container of the collector image (or Jaeger's, for the Jaeger binary). */
export async function startCollectorInDocker(opts: CollectorOptions): Promise<Collector> {
  await prepareDocker(); // first: it sets the image variables
  const c = await prepareCollector(opts);
  const img = opts.binary && basename(opts.binary) === 'jaeger' ? image('JAEGER_IMAGE') : image('COLLECTOR_IMAGE');
  const args = c.configPaths.map((p) => `--config=${p}`);

  // Same fail-fast as natively: the image's own `validate`, its message in the error.
  try {
    const envArgs = Object.entries(c.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const mountArgs = labMounts().flatMap(([s, t, m]) => ['-v', `${s}:${t}:${m}`]);
    await execFileAsync('docker', ['run', '--rm', '--network=host', `--user=${hostUser()}`, ...envArgs, ...mountArgs, img, 'validate', ...args]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`collector config ${c.configPaths.join(' + ')} is invalid (${img}):\n${(e.stderr || e.message).trim().split('\n').slice(-5).join('\n')}`);
  }

  const dir = runDir(`collector-${c.name}`);
  const proc = await startContainer({
    name: `collector ${c.name} (docker)`,
    image: img,
    command: args,
    env: c.env,
    user: hostUser(),
    logFile: join(dir, 'collector.log'),
  });
  return readyCollector(c, proc, { healthPath: opts.healthPath, what: `collector ${c.name} (docker, ${img})`, timeoutMs: 30_000 });
}
