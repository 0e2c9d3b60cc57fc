// The lab's four demo services (services/), started natively on free loopback ports, in one of
// four modes: 'sdk' (our bootstrap, services/shared/telemetry.ts), 'zero-code' (what the
// OpenTelemetry Operator injects: NODE_OPTIONS=--require .../register), 'none' (no
// OpenTelemetry at all, for the benchmark's baseline) or 'injected' (OpenTelemetry entirely
// from the caller's env, as an injected pod gets it: Lab 3). Ready when every /health answers and
// fulfillment has joined its consumer group.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readEnvFile, repoRoot, runDir } from './components.js';
import { freePort } from './ports.js';
import { startProcess, watch, type ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

export const SERVICE_NAMES = ['payments', 'orders', 'gateway', 'fulfillment'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type InstrumentationMode = 'sdk' | 'zero-code' | 'none' | 'injected';
type Env = Record<string, string>;

export interface ServicesOptions {
  /** OTLP/HTTP base URL the services export to (a collector's otlpHttp), e.g. http://127.0.0.1:4318. */
  otlpEndpoint?: string;
  /** Kafka host:port (startKafka().bootstrap). */
  kafkaBootstrap: string;
  mode?: InstrumentationMode;
  /** Extra environment: `all` for every service, or per service (wins over `all`). */
  env?: Partial<Record<ServiceName | 'all', Env>>;
  /** The Kafka topic (default `orders`): give two service sets on one broker each their own. */
  topic?: string;
  /** Prefix of the process names and log directories (default `services`). */
  name?: string;
  /** Fixed ports (the native lab uses compose's 8080-8083); free loopback ports otherwise. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Run the CommonJS build of compileServices() (what the image runs) instead of the TypeScript through tsx. */
  compiled?: string;
}

export interface RunningService {
  name: ServiceName;
  url: string;
  metricsUrl: string;
  process: ManagedProcess;
}

export interface Services extends Record<ServiceName, RunningService> {
  mode: InstrumentationMode;
  stop(): Promise<void>;
}

/** services/telemetry.env as a map: the OTEL_* settings shared by every service, in every mode. */
export function telemetryEnv(): Env {
  return readEnvFile('services/telemetry.env');
}

/** The TypeScript files of services/, relative to the repo. */
function serviceSources(dir = join(repoRoot, 'services')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? serviceSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(repoRoot, join(dir, e.name))] : [],
  );
}

/**
 * services/ compiled to CommonJS exactly as services/Dockerfile does it (esbuild, file by file,
 * no bundle), in a fresh directory whose node_modules is the repo's: what the image runs
 * (`node --require services/shared/telemetry.js services/<name>/main.js`). Returns that directory.
 */
export function compileServices(): string {
  const out = runDir('services-js');
  const esbuild = join(repoRoot, 'node_modules', '.bin', 'esbuild');
  execFileSync(
    esbuild,
    [...serviceSources(), '--outbase=services', `--outdir=${join(out, 'services')}`, '--format=cjs', '--platform=node', '--target=node24', '--log-level=warning'],
    { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  copyFileSync(join(repoRoot, 'services', 'package.json'), join(out, 'services', 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(out, 'node_modules'));
  return out;
}

/**
 * The node arguments and NODE_OPTIONS that start one service in a mode; from `compiled` (a
 * compileServices() directory) as the image starts it, through tsx otherwise.
 */
export function serviceCommand(service: ServiceName, mode: InstrumentationMode, compiled?: string): { args: string[]; nodeOptions: string } {
  if (compiled) {
    const js = (file: string) => join(compiled, 'services', file);
    const entry = [js(`${service}/main.js`)];
    if (mode === 'sdk') return { args: ['--require', js('shared/telemetry.js'), ...entry], nodeOptions: '' };
    if (mode === 'zero-code') return { args: entry, nodeOptions: '--require @opentelemetry/auto-instrumentations-node/register' };
    return { args: entry, nodeOptions: '' };
  }
  const entry = join(repoRoot, 'services', service, 'main.ts');
  if (mode === 'sdk') {
    return { args: ['--import', 'tsx', '--import', join(repoRoot, 'services/shared/telemetry.ts'), entry], nodeOptions: '' };
  }
  if (mode === 'zero-code') {
    return { args: ['--import', 'tsx', entry], nodeOptions: '--require @opentelemetry/auto-instrumentations-node/register' };
  }
  return { args: ['--import', 'tsx', entry], nodeOptions: '' };
}

async function healthy(url: string, check: (body: any) => boolean): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok && check(await res.json());
  } catch {
    return false;
  }
}

export async function startServices(opts: ServicesOptions): Promise<Services> {
  const mode = opts.mode ?? 'sdk';
  if ((mode === 'sdk' || mode === 'zero-code') && !opts.otlpEndpoint) throw new Error(`startServices: mode '${mode}' needs otlpEndpoint`);
  const prefix = opts.name ?? 'services';
  const dir = runDir(prefix);
  const ports = Object.fromEntries(
    await Promise.all(SERVICE_NAMES.map(async (s) => [s, opts.ports?.[s] ?? (await freePort())])),
  ) as Record<ServiceName, number>;
  const url = (s: ServiceName) => `http://127.0.0.1:${ports[s]}`;
  // 'injected': no telemetry setting of the harness, and none inherited from this process
  // (an OTEL_* of the caller's shell would otherwise reach the services): opts.env is all.
  const otel: Record<string, string | undefined> =
    mode === 'none'
      ? { OTEL_SDK_DISABLED: 'true' }
      : mode === 'injected'
        ? Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('OTEL_')).map((k) => [k, undefined]))
        : { ...telemetryEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpEndpoint! };
  const wiring: Env = {
    KAFKA_BROKERS: opts.kafkaBootstrap,
    KAFKA_TOPIC: opts.topic ?? 'orders',
    ORDERS_URL: url('orders'),
    PAYMENTS_URL: url('payments'),
  };

  const started = {} as Record<ServiceName, RunningService>;
  for (const service of SERVICE_NAMES) {
    const { args, nodeOptions } = serviceCommand(service, mode, opts.compiled);
    const proc = startProcess({
      name: `${prefix} ${service}`,
      command: process.execPath,
      args,
      cwd: repoRoot,
      logFile: join(dir, `${service}.log`),
      env: {
        ...otel,
        ...wiring,
        ...(mode === 'injected' ? {} : { OTEL_SERVICE_NAME: service }),
        PORT: String(ports[service]),
        NODE_OPTIONS: nodeOptions,
        ...opts.env?.all,
        ...opts.env?.[service],
      },
    });
    watch(proc);
    started[service] = { name: service, url: url(service), metricsUrl: `${url(service)}/metrics`, process: proc };
  }

  for (const service of SERVICE_NAMES) {
    const s = started[service];
    await waitFor(
      () => healthy(s.url, (body) => service !== 'fulfillment' || body.kafka === 'consuming'),
      {
        what: `${s.process.name} /health${service === 'fulfillment' ? ' with its Kafka consumer joined' : ''} (log: ${s.process.logFile})`,
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
  }

  return {
    ...started,
    mode,
    stop: async () => {
      await Promise.all(SERVICE_NAMES.map((s) => started[s].process.stop()));
    },
  };
}
