// docker compose for the tests: running the CLI (on the engine scripts/docker/engine.sh finds
// or starts), and a static check of a compose project as `docker compose config` resolves it:
// every mounted file exists, and every address a container is told to reach (collector
// exporter endpoints, service URLs, Kafka brokers, scrape targets, Grafana data sources) names
// a service of the same profile and a port that service listens on.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot, versions } from './components.js';

const execFileAsync = promisify(execFile);

/** The profiles brought up end to end by the tests (test/compose/compose-e2e.test.ts). */
export const PROFILES = ['metrics', 'sampling-direct', 'sampling', 'everything'] as const;
/** Every profile, checked by `docker compose config` (Lab 5's profiling needs a privileged container: config only). */
export const CONFIGURED_PROFILES = [...PROFILES, 'profiling'] as const;
export type Profile = (typeof CONFIGURED_PROFILES)[number];

export interface ComposeOptions {
  /** Compose file (default: the repo's docker-compose.yml). */
  file?: string;
  /** Project name (default: the file's `name:`). */
  project?: string;
  profile?: Profile;
  /** Variables for interpolation (image overrides, published ports). */
  env?: Record<string, string>;
}

/** Runs `docker compose ...` in the repo; rejects with compose's own message. */
export async function compose(args: string[], opts: ComposeOptions = {}, timeoutMs = 600_000): Promise<string> {
  const full = [
    'compose',
    '--project-directory',
    repoRoot,
    ...(opts.file ? ['-f', opts.file] : []),
    ...(opts.project ? ['-p', opts.project] : []),
    ...(opts.profile ? ['--profile', opts.profile] : []),
    ...args,
  ];
  try {
    const { stdout } = await execFileAsync('docker', full, {
      cwd: repoRoot,
      env: { ...process.env, COMPOSE_PROFILES: '', ...opts.env },
      maxBuffer: 64 << 20,
      timeout: timeoutMs,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const out = `${e.stderr ?? ''}\n${e.stdout ?? ''}`.trim() || e.message;
    throw new Error(`docker ${full.join(' ')} failed:\n${out.split('\n').slice(-30).join('\n')}`);
  }
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | null;
  environment?: Record<string, string | null>;
  volumes?: { type: string; source: string; target: string }[];
  networks?: Record<string, { aliases?: string[] } | null>;
  mem_limit?: string;
  healthcheck?: unknown;
  deploy?: { replicas?: number };
  ports?: { target: number; published: string; host_ip?: string }[];
}

export interface ComposeConfig {
  name: string;
  services: Record<string, ComposeService>;
}

/** The project as compose resolves it for one profile (only that profile's services). */
export async function composeConfig(opts: ComposeOptions = {}): Promise<ComposeConfig> {
  return JSON.parse(await compose(['config', '--format', 'json'], opts, 60_000));
}

// ------------------------------------------------------------------ static checks

const ADDRESS = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)?([a-zA-Z][a-zA-Z0-9_.-]*):(\d{2,5})(?:\/.*)?$/;
const LOCAL_HOSTS = new Set(['localhost', '0.0.0.0', '127.0.0.1']);

/** `${env:NAME:-default}` (nested defaults too) resolved against a container's environment. */
export function resolveEnvRefs(text: string, env: Record<string, string | null | undefined>): string {
  let out = text;
  for (let i = 0; i < 5 && out.includes('${env:'); i++) {
    out = out.replace(/\$\{env:([A-Z0-9_]+)(?::-((?:[^${}]|\$(?!\{))*))?\}/g, (_m, name, fallback) => env[name] ?? fallback ?? '');
  }
  return out;
}

function* strings(node: unknown, path: string[] = []): Generator<[string[], string]> {
  if (typeof node === 'string') yield [path, node];
  else if (typeof node === 'number') yield [path, String(node)];
  else if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* strings(v, [...path, String(i)]);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* strings(v, [...path, k]);
}

/** The host file behind a path inside a container, through its bind mounts. */
function hostPath(service: ComposeService, containerPath: string): string | undefined {
  for (const v of service.volumes ?? []) {
    if (v.type !== 'bind') continue;
    if (containerPath === v.target) return v.source;
    if (containerPath.startsWith(`${v.target}/`)) return join(v.source, containerPath.slice(v.target.length + 1));
  }
  return undefined;
}

/** Collector config files a service runs (`--config=<path>` of its command, mounted). */
function collectorConfigs(service: ComposeService): string[] {
  return (service.command ?? [])
    .map((a) => /^--config=(.+)$/.exec(a)?.[1])
    .filter((p): p is string => !!p)
    .map((p) => hostPath(service, p))
    .filter((p): p is string => !!p && existsSync(p));
}

/** Parsed collector configs of a service, merged shallowly enough for address checks. */
function parsedConfigs(service: ComposeService): { file: string; doc: unknown }[] {
  const env = { ...(service.environment ?? {}) } as Record<string, string>;
  return collectorConfigs(service).map((file) => ({ file, doc: parse(resolveEnvRefs(readFileSync(file, 'utf8'), env)) }));
}

/** The ports a service listens on, from its own config: what its peers may point at. */
export function listeningPorts(service: ComposeService): Set<number> {
  const ports = new Set<number>();
  const env = service.environment ?? {};
  if (env.PORT) ports.add(Number(env.PORT));
  for (const m of (env.KAFKA_LISTENERS ?? '').matchAll(/:(\d+)/g)) ports.add(Number(m[1]));
  for (const { doc } of parsedConfigs(service)) {
    for (const [path, value] of strings(doc)) {
      const key = path.at(-1);
      if (key === 'endpoint') {
        const m = /^(?:[a-z]+:\/\/)?([^:/]*):(\d+)$/.exec(value);
        if (m && (m[1] === '' || LOCAL_HOSTS.has(m[1]))) ports.add(Number(m[2]));
      }
      if (key === 'port' && path.includes('telemetry')) ports.add(Number(value));
    }
  }
  // Images that take no config file of ours listen on their documented default port.
  const v = versions();
  const image = service.image ?? '';
  const defaults: Record<string, number> = {
    [process.env.PROMETHEUS_IMAGE ?? v.PROMETHEUS_IMAGE]: 9090,
    [process.env.GRAFANA_IMAGE ?? v.GRAFANA_IMAGE]: 3000,
  };
  if (defaults[image]) ports.add(defaults[image]);
  return ports;
}

interface Reference {
  from: string;
  what: string;
  host: string;
  port: number;
}

function addressesIn(value: string): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const part of value.split(',')) {
    const m = ADDRESS.exec(part.trim());
    if (m && !LOCAL_HOSTS.has(m[1])) out.push({ host: m[1], port: Number(m[2]) });
  }
  return out;
}

/** Every address a service is configured to reach, with where it was found. */
function references(name: string, service: ComposeService): Reference[] {
  const refs: Reference[] = [];
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    for (const a of addressesIn(value ?? '')) refs.push({ from: name, what: `environment ${key}=${value}`, ...a });
  }
  for (const arg of service.command ?? []) {
    for (const a of addressesIn(arg)) refs.push({ from: name, what: `command argument ${arg}`, ...a });
  }
  for (const { file, doc } of parsedConfigs(service)) {
    for (const [path, value] of strings(doc)) {
      for (const a of addressesIn(value)) refs.push({ from: name, what: `${relative(repoRoot, file)} ${path.join('.')}: ${value}`, ...a });
    }
  }
  // Scrape targets (file_sd JSON) and Grafana data sources, read through the mounts.
  for (const v of service.volumes ?? []) {
    if (v.type !== 'bind' || !existsSync(v.source)) continue;
    const files = statSync(v.source).isDirectory() ? walk(v.source) : [v.source];
    for (const file of files) {
      if (/targets\/[^/]+\.json$/.test(file)) {
        for (const group of JSON.parse(readFileSync(file, 'utf8')) as { targets: string[] }[]) {
          for (const t of group.targets) for (const a of addressesIn(t)) refs.push({ from: name, what: `${relative(repoRoot, file)}: target ${t}`, ...a });
        }
      }
      if (/datasources\/[^/]+\.ya?ml$/.test(file)) {
        for (const ds of (parse(readFileSync(file, 'utf8'))?.datasources ?? []) as { name: string; url?: string }[]) {
          for (const a of addressesIn(ds.url ?? '')) refs.push({ from: name, what: `${relative(repoRoot, file)}: data source ${ds.name} ${ds.url}`, ...a });
        }
      }
    }
  }
  return refs;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Problems of a resolved compose project, one sentence each naming the service and what it
 * refers to. Empty when every mount exists and every address resolves to a listening port.
 */
export function checkCompose(config: ComposeConfig, profile: string): string[] {
  const problems: string[] = [];
  const hosts = new Map<string, string>(); // host name or alias -> service
  for (const [name, s] of Object.entries(config.services)) {
    hosts.set(name, name);
    for (const n of Object.values(s.networks ?? {})) for (const alias of n?.aliases ?? []) hosts.set(alias, name);
  }
  for (const [name, s] of Object.entries(config.services)) {
    for (const v of s.volumes ?? []) {
      if (v.type === 'bind' && !existsSync(v.source)) {
        problems.push(`service ${name} mounts ${relative(repoRoot, v.source)} (at ${v.target}), which does not exist`);
      }
    }
    for (const ref of references(name, s)) {
      const target = hosts.get(ref.host);
      if (!target) {
        problems.push(`service ${name} points at ${ref.host}:${ref.port} (${ref.what}), but no service ${ref.host} runs in profile ${profile}`);
        continue;
      }
      const ports = listeningPorts(config.services[target]);
      if (!ports.has(ref.port)) {
        problems.push(
          `service ${name} points at ${ref.host}:${ref.port} (${ref.what}), but ${target} listens on ${[...ports].sort((a, b) => a - b).join(', ') || 'no known port'}`,
        );
      }
    }
  }
  return problems;
}
