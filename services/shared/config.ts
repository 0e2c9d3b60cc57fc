// Service configuration comes from environment variables only (the same in the native lab,
// docker compose and Kubernetes). A wrong value stops the service at start with a message
// naming the variable, instead of surfacing later as a strange request failure.

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

export function requiredString(env: Env, name: string, example: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(`${name} is not set (example: ${name}=${example})`);
  return value;
}

export function optionalString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function integer(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${value} is not an integer between ${min} and ${max}`);
  }
  return n;
}

/** A switch: true/false (also 1/0, on/off, yes/no); anything else stops the service, naming the variable. */
export function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'on', 'yes'].includes(value)) return true;
  if (['false', '0', 'off', 'no'].includes(value)) return false;
  throw new ConfigError(`${name}=${env[name]} is not a switch (true or false)`);
}

/** A probability: 0 (never) to 1 (always). */
export function rate(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${name}=${value} is not a rate between 0 and 1`);
  return n;
}

export function url(env: Env, name: string, example: string): string {
  const value = requiredString(env, name, example);
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`${name}=${value} is not an http(s) URL (example: ${name}=${example})`);
  }
  return value.replace(/\/+$/, '');
}

/** A comma-separated list of host:port, e.g. KAFKA_BROKERS=kafka:9092. */
export function brokers(env: Env, name: string): string[] {
  const list = requiredString(env, name, 'kafka:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const b of list) {
    if (!/^[^\s:]+:\d+$/.test(b)) throw new ConfigError(`${name} entry "${b}" is not host:port`);
  }
  return list;
}

export function port(env: Env): number {
  return integer(env, 'PORT', 8080, { min: 1, max: 65535 });
}
