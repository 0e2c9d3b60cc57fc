// The Prometheus text exposition (what prom-client's /metrics and every collector's own
// telemetry endpoint serve), parsed once for the whole lab: one sample per line.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LABEL = /("(?:[^"\\]|\\.)*"|[a-zA-Z_][a-zA-Z0-9_]*)(?:\s*=\s*"((?:[^"\\]|\\.)*)")?/g;
const unescape = (s: string) => s.replace(/\\(.)/g, (_m, c) => (c === 'n' ? '\n' : c));

/** Every sample line of an exposition (comments and blank lines skipped; UTF-8 quoted names too). */
export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.search(/\s/);
    let name = brace >= 0 && (space < 0 || brace < space) ? line.slice(0, brace) : line.slice(0, space);
    const labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) throw new Error(`unterminated labels in exposition line: ${line}`);
      for (const m of rest.slice(1, close).matchAll(LABEL)) {
        if (m[2] === undefined) {
          // Prometheus 3's UTF-8 form: the metric name as the first, quoted, item in the braces.
          if (m[1].startsWith('"')) name = unescape(m[1].slice(1, -1));
          continue;
        }
        labels[m[1].startsWith('"') ? unescape(m[1].slice(1, -1)) : m[1]] = unescape(m[2]);
      }
      rest = rest.slice(close + 1);
    }
    // value [timestamp]
    const token = rest.trim().split(/\s+/)[0];
    const value = token === '+Inf' ? Infinity : token === '-Inf' ? -Infinity : Number(token);
    out.push({ name, labels, value });
  }
  return out;
}

/** GETs an exposition and parses it; rejects naming the URL on a non-2xx answer. */
export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parsePromText(await res.text());
}

const matches = (s: Sample, name: string, labels: Record<string, string>) =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/**
 * Sum of the samples of `name` whose labels include `labels`; undefined when there is no such
 * series at all, so a renamed or missing metric is never mistaken for a count of 0.
 */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => matches(s, name, labels));
  return found.length ? found.reduce((sum, s) => sum + s.value, 0) : undefined;
}

/** sumOf, for a series that must exist: rejects naming it and the similar names that do exist. */
export function requireSum(samples: Sample[], name: string, labels: Record<string, string> = {}, where = 'the exposition'): number {
  const sum = sumOf(samples, name, labels);
  if (sum !== undefined) return sum;
  const prefix = name.split('_').slice(0, 3).join('_');
  const similar = [...new Set(samples.filter((s) => s.name.startsWith(prefix)).map((s) => s.name))].slice(0, 8);
  throw new Error(
    `no series ${name}${Object.keys(labels).length ? JSON.stringify(labels) : ''} in ${where}` +
      ` (names starting with ${prefix}: ${similar.join(', ') || 'none'})`,
  );
}
