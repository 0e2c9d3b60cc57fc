// docker-compose.yml, checked without starting anything: what `docker compose config` resolves
// for each profile is complete (every mounted file exists, every address a container is given
// reaches a service of that profile on a port it listens on), pinned (every image a versioned
// variable of .env, the collector image at the builder's release) and bounded (memory limits
// on every container, the whole lab within 2 GiB).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareEngine } from '../../scripts/runtime/docker.js';
import { checkCompose, composeConfig, CONFIGURED_PROFILES, listeningPorts, type ComposeConfig } from '../../scripts/runtime/compose.js';
import { repoRoot, runDir, versions } from '../../scripts/runtime/index.js';

const composeFile = join(repoRoot, 'docker-compose.yml');

/** A copy of docker-compose.yml with `edit` applied, for the bad-input cases. */
function brokenCompose(edit: (doc: any) => void): string {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: false });
  edit(doc);
  const file = join(runDir('compose-broken'), 'docker-compose.yml');
  writeFileSync(file, stringify(doc, { aliasDuplicateObjects: true }));
  return file;
}

const mib = (bytes: string | undefined) => Number(bytes ?? 0) / 2 ** 20;

describe('docker-compose.yml, as compose resolves it', () => {
  const configs = new Map<string, ComposeConfig>();

  beforeAll(async () => {
    await prepareEngine(); // the compose CLI: the user's, or the one the lab builds
    for (const profile of CONFIGURED_PROFILES) configs.set(profile, await composeConfig({ profile }));
  }, 300_000);

  it.each(CONFIGURED_PROFILES)('profile %s: every mounted file exists and every address reaches a listening service', (profile) => {
    const config = configs.get(profile)!;
    expect(Object.keys(config.services).length).toBeGreaterThan(5);
    expect(checkCompose(config, profile)).toEqual([]);
  });

  it('takes every image from a variable of .env, each pinned to a version', () => {
    const raw = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, { image?: string; build?: unknown }> };
    for (const [name, s] of Object.entries(raw.services)) {
      if (s.build) continue; // built here from services/Dockerfile (its base image is NODE_IMAGE)
      expect(s.image, `service ${name}'s image`).toMatch(/^\$\{[A-Z0-9_]+_IMAGE\}$/);
    }
    const env = versions();
    const images = Object.entries(env).filter(([k]) => k.endsWith('_IMAGE'));
    // compose's images (Lab 5's profiles collector and profiler too), and Lab 3's (the kind
    // node, the lab's Node.js auto-instrumentation image).
    expect(images.map(([k]) => k).sort()).toEqual(
      ['COLLECTOR_IMAGE', 'GRAFANA_IMAGE', 'JAEGER_IMAGE', 'KAFKA_IMAGE', 'NODE_IMAGE', 'PROMETHEUS_IMAGE', 'KIND_NODE_IMAGE', 'LAB_AUTOINSTRUMENTATION_NODEJS_IMAGE',
        'COLLECTOR_PROFILES_IMAGE', 'EBPF_PROFILER_IMAGE'].sort(),
    );
    for (const [k, image] of images) {
      // A digest (@sha256:…) may follow the tag: the tag is what says the version.
      const tag = /:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
      expect(tag, `${k}=${image} has no tag`).toBeDefined();
      expect(tag, `${k}=${image} is not pinned to a version`).toMatch(/^v?\d+\.\d+\.\d+/);
    }
    for (const [profile, config] of configs) {
      for (const [name, s] of Object.entries(config.services)) {
        expect(s.image, `${profile}: ${name}`).toMatch(/:[^:/]+$/);
        expect(s.image, `${profile}: ${name}`).not.toMatch(/:latest$/);
      }
    }
    // The services' Dockerfile gets its base image from .env too.
    const gateway = configs.get('metrics')!.services.gateway as { build?: { args?: Record<string, string> } };
    expect(gateway.build?.args?.NODE_IMAGE).toBe(env.NODE_IMAGE);
  });

  it('runs the collector image of the release the builder pins', () => {
    const builder = parse(readFileSync(join(repoRoot, 'collector/builder-config.yaml'), 'utf8'));
    const env = versions();
    expect(env.COLLECTOR_IMAGE).toBe(`otel/opentelemetry-collector-contrib:${builder.dist.version}`);
    expect(env.OTELCOL_VERSION).toBe(builder.dist.version);
    const collectors = Object.values(configs.get('everything')!.services).filter((s) => s.image?.includes('opentelemetry-collector'));
    expect(collectors.length).toBeGreaterThanOrEqual(5);
    for (const s of collectors) expect(s.image).toBe(env.COLLECTOR_IMAGE);
  });

  it('limits the memory of every container, and the whole lab fits in 2 GiB', () => {
    for (const [profile, config] of configs) {
      let total = 0;
      for (const [name, s] of Object.entries(config.services)) {
        expect(s.mem_limit, `${profile}: ${name} has no mem_limit`).toBeDefined();
        total += mib(s.mem_limit) * (s.deploy?.replicas ?? 1);
      }
      console.log(`profile ${profile}: sum of memory limits ${total} MiB`);
      expect(total, `${profile}: sum of memory limits (MiB)`).toBeLessThanOrEqual(2048);
    }
  });

  it('gives every server a healthcheck, except collectors (their image has no shell, no wget)', () => {
    for (const [name, s] of Object.entries(configs.get('everything')!.services)) {
      if (s.image === versions().COLLECTOR_IMAGE || listeningPorts(s).size === 0) continue;
      expect(s.healthcheck, `${name} has no healthcheck`).toBeDefined();
    }
  });

  it('fails a mount of a missing config, naming the service and the file', async () => {
    const file = brokenCompose((doc) => {
      doc.services['sampler-1'].volumes = ['./collector/no-such-sampler.yaml:/etc/otelcol-contrib/config.yaml:ro'];
    });
    const problems = checkCompose(await composeConfig({ file, profile: 'sampling-direct' }), 'sampling-direct');
    expect(problems).toContainEqual(expect.stringMatching(/^service sampler-1 mounts collector\/no-such-sampler\.yaml .*does not exist/));
  });

  it('fails an address of a missing service, naming the service and the address', async () => {
    const file = brokenCompose((doc) => {
      doc.services.lb.environment.SAMPLER_ENDPOINTS = 'sampler-1:4317,sampler-9:4317';
    });
    const problems = checkCompose(await composeConfig({ file, profile: 'sampling-direct' }), 'sampling-direct');
    // Found twice: in lb's environment and in collector/lb.yaml once that variable is resolved.
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^service lb points at sampler-9:4317 .*no service sampler-9 runs in profile sampling-direct$/);
  });

  it('fails an address on a port nobody listens on, naming both ends', async () => {
    const file = brokenCompose((doc) => {
      doc.services.gateway.environment.ORDERS_URL = 'http://orders:9999';
    });
    const problems = checkCompose(await composeConfig({ file, profile: 'metrics' }), 'metrics');
    expect(problems).toEqual([expect.stringMatching(/^service gateway points at orders:9999 .*but orders listens on 8081$/)]);
  });

  it('fails a dependency on a missing service, with compose naming both', async () => {
    const file = brokenCompose((doc) => {
      doc.services.gateway.depends_on = { 'no-such-service': { condition: 'service_healthy' } };
    });
    await expect(composeConfig({ file, profile: 'metrics' })).rejects.toThrow(/gateway.*no-such-service|no-such-service.*gateway/);
  });
});
