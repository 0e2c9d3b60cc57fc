// Foundation: one collector release everywhere. The native build (ocb manifest), docker compose
// (.env) and Kubernetes (k8s/) must run the same collector, or the workshop would teach one
// thing natively and see another in containers. Same for the other pinned components.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { repoRoot, versions } from '../../scripts/runtime/index.js';

const env = versions();
const read = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

function yamlFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(repoRoot, p)).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

/** Every string value under a key named `image` (or `newName`/`newTag` pairs) in a YAML tree. */
function images(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => images(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'image' && typeof v === 'string') out.push(v);
      else images(v, out);
    }
  }
  return out;
}

describe('pinned versions agree across the native build, compose and k8s', () => {
  const manifest = parse(read('collector/builder-config.yaml'));

  it('the ocb manifest builds one collector release, the one .env names', () => {
    const release = manifest.dist.version;
    expect(release).toBe(env.OTELCOL_VERSION);
    const modules = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'].flatMap((k) =>
      (manifest[k] ?? []).map((c: { gomod: string }) => c.gomod),
    );
    expect(modules.length).toBeGreaterThan(15);
    for (const gomod of modules) expect(gomod, gomod).toMatch(new RegExp(` v${release.replace(/\./g, '\\.')}$`));
  });

  it('the contrib image in .env is that same release', () => {
    expect(env.COLLECTOR_IMAGE).toBe(`otel/opentelemetry-collector-contrib:${env.OTELCOL_VERSION}`);
  });

  it('docker compose runs every collector role from COLLECTOR_IMAGE', () => {
    const compose = parse(read('docker-compose.yml'));
    const collectorServices = Object.entries<any>(compose.services).filter(([, s]) =>
      JSON.stringify(s.volumes ?? []).includes('collector/'),
    );
    expect(collectorServices.length, 'services mounting collector/ configs').toBeGreaterThan(0);
    for (const [name, s] of collectorServices) {
      // Lab 5's profiles role runs on the profiler's collector release (collector/builder-profiles.yaml).
      const variable = JSON.stringify(s.volumes).includes('collector/profiles.yaml') ? 'COLLECTOR_PROFILES_IMAGE' : 'COLLECTOR_IMAGE';
      expect(s.image, `compose service ${name}`).toMatch(new RegExp(`^\\$\\{${variable}(:-[^}]*)?\\}$`));
    }
  });

  it("Lab 5's profiles collector: its ocb manifest, its image and .env name one release, the profiler's", () => {
    const profiles = parse(read('collector/builder-profiles.yaml'));
    expect(profiles.dist.version).toBe(env.OTELCOL_PROFILES_VERSION);
    expect(env.COLLECTOR_PROFILES_IMAGE).toBe(`otel/opentelemetry-collector-contrib:${env.OTELCOL_PROFILES_VERSION}`);
    const modules = ['receivers', 'exporters', 'extensions'].flatMap((k) => (profiles[k] ?? []).map((c: { gomod: string }) => c.gomod));
    for (const gomod of modules) expect(gomod, gomod).toMatch(new RegExp(` v${env.OTELCOL_PROFILES_VERSION.replace(/\./g, '\\.')}$`));
    expect(env.EBPF_PROFILER_IMAGE).toBe(`otel-lab-local/ebpf-profiler:${env.EBPF_PROFILER_VERSION}`);
  });

  it('every collector image in k8s/ is that same release', () => {
    const found: string[] = [];
    for (const file of yamlFiles('k8s')) {
      for (const doc of parseAllDocuments(read(file))) {
        for (const image of images(doc.toJS())) {
          if (image.includes('opentelemetry-collector')) {
            found.push(image);
            expect(image, relative(repoRoot, join(repoRoot, file))).toBe(env.COLLECTOR_IMAGE);
          }
        }
      }
    }
    expect(found.length, 'collector images in k8s/').toBeGreaterThan(0);
  });

  it('Prometheus: Go module v0.3MM.P is release 3.MM.P, the image tag', () => {
    const [, minor, patch] = /^v0\.3(\d\d)\.(\d+)$/.exec(env.PROMETHEUS_MODULE)!;
    expect(env.PROMETHEUS_VERSION).toBe(`3.${Number(minor)}.${patch}`);
    expect(env.PROMETHEUS_IMAGE).toBe(`prom/prometheus:v${env.PROMETHEUS_VERSION}`);
  });

  it('Kafka: the broker jars resolved from Maven are the version of the image', () => {
    expect(read('config/kafka/pom.xml')).toContain(`<kafka.version>${env.KAFKA_VERSION}</kafka.version>`);
    expect(env.KAFKA_IMAGE).toBe(`apache/kafka:${env.KAFKA_VERSION}`);
  });
});
