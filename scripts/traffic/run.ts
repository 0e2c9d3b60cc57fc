// Sends orders to the gateway: a count or a duration, at a rate, with bounded concurrency, each
// request carrying `x-lab-fault` for its category so the outcome is known in advance. Records
// every answer's trace id (W3C traceresponse header) and whether the head sampler kept it.
import { categories, CATEGORIES, type Category, type Mix } from './mix.js';

export interface TrafficOptions {
  /** The gateway's base URL, e.g. http://localhost:8080 */
  target: string;
  /** Send exactly this many orders... */
  count?: number;
  /** ...or send for this many seconds. */
  durationSeconds?: number;
  /** Orders per second; unlimited (as fast as `concurrency` allows) when absent. */
  rate?: number;
  /** Orders in flight at most (default 4). */
  concurrency?: number;
  mix?: Mix;
  /** Per-request timeout (default 30 s: slow payments take seconds). */
  timeoutMs?: number;
  /** The customer of the n-th order (default `traffic-<n>`: every order a different customer). */
  customer?: (n: number) => string;
  /** Called about once a second while running. */
  onProgress?: (p: TrafficProgress) => void;
}

export interface TrafficProgress {
  elapsedSeconds: number;
  sent: number;
  inFlight: number;
  ok: number;
  errors: number;
  slow: number;
  failed: number;
}

export interface TrafficFailure {
  category: Category;
  status?: number;
  message: string;
  traceId?: string;
}

export interface TrafficResult {
  target: string;
  /** Requests answered or failed (every request sent is counted in exactly one of the next four). */
  sent: number;
  /** ok-category orders accepted (201). */
  ok: number;
  /** error-category orders refused as injected (an HTTP 5xx from the gateway). */
  errors: number;
  /** slow-category orders accepted (201). */
  slow: number;
  /** Requests whose answer was NOT what their category asked for (or no answer at all). */
  failed: number;
  failures: TrafficFailure[];
  /** Trace ids of the requests that came out as asked, per category. */
  traceIds: Record<Category, string[]>;
  /** The subset of traceIds whose traceresponse had the sampled flag: kept by the head sampler. */
  sampledByHead: Record<Category, string[]>;
  /** Answer time per category in ms (client side): [min, median, max]. */
  latencyMs: Record<Category, [number, number, number] | null>;
  elapsedSeconds: number;
}

const FAULT_FOR: Record<Category, string> = { ok: 'none', error: 'error', slow: 'slow' };
const ITEMS = ['telescope', 'star chart', 'red torch', 'eyepiece', 'tripod'];

function byCategory<T>(make: () => T): Record<Category, T> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, make()])) as Record<Category, T>;
}

/** `00-<trace id>-<span id>-<flags>` -> trace id and sampled bit. */
export function parseTraceResponse(header: string | null): { traceId: string; sampled: boolean } | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header?.trim() ?? '');
  return m ? { traceId: m[1], sampled: (parseInt(m[3], 16) & 1) === 1 } : undefined;
}

export function checkOptions(o: TrafficOptions): void {
  try {
    new URL(o.target);
  } catch {
    throw new Error(`target "${o.target}" is not a URL (example: http://localhost:8080)`);
  }
  if ((o.count === undefined) === (o.durationSeconds === undefined)) throw new Error('give exactly one of count and duration');
  if (o.count !== undefined && !(Number.isInteger(o.count) && o.count > 0)) throw new Error(`count must be a positive integer, not ${o.count}`);
  if (o.durationSeconds !== undefined && !(o.durationSeconds > 0)) throw new Error(`duration must be > 0 seconds, not ${o.durationSeconds}`);
  if (o.rate !== undefined && !(o.rate > 0)) throw new Error(`rate must be > 0 per second, not ${o.rate}`);
  if (o.concurrency !== undefined && !(Number.isInteger(o.concurrency) && o.concurrency > 0)) {
    throw new Error(`concurrency must be a positive integer, not ${o.concurrency}`);
  }
}

function spread(values: number[]): [number, number, number] | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return [Math.round(s[0]), Math.round(s[Math.floor(s.length / 2)]), Math.round(s[s.length - 1])];
}

export async function runTraffic(options: TrafficOptions): Promise<TrafficResult> {
  checkOptions(options);
  const target = options.target.replace(/\/+$/, '');
  const concurrency = options.concurrency ?? 4;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const mix = options.mix ?? { ok: 80, error: 10, slow: 10 };
  const next = categories(mix);
  const started = performance.now();
  const deadline = options.durationSeconds === undefined ? Infinity : started + options.durationSeconds * 1000;
  const elapsed = () => (performance.now() - started) / 1000;

  const result: TrafficResult = {
    target,
    sent: 0,
    ok: 0,
    errors: 0,
    slow: 0,
    failed: 0,
    failures: [],
    traceIds: byCategory(() => []),
    sampledByHead: byCategory(() => []),
    latencyMs: byCategory(() => null),
    elapsedSeconds: 0,
  };
  const latencies = byCategory<number[]>(() => []);
  let issued = 0;
  let inFlight = 0;

  const fail = (f: TrafficFailure) => {
    result.failed += 1;
    if (result.failures.length < 20) result.failures.push(f);
  };

  const sendOne = async (n: number, category: Category) => {
    const t0 = performance.now();
    inFlight += 1;
    try {
      const res = await fetch(`${target}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-lab-fault': FAULT_FOR[category] },
        body: JSON.stringify({ customer: options.customer?.(n) ?? `traffic-${n}`, item: ITEMS[n % ITEMS.length], quantity: 1 + (n % 3) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      const trace = parseTraceResponse(res.headers.get('traceresponse'));
      const expected = category === 'error' ? res.status >= 500 : res.status === 201;
      if (!expected) {
        fail({ category, status: res.status, message: text.slice(0, 300), traceId: trace?.traceId });
        return;
      }
      if (category === 'ok') result.ok += 1;
      else if (category === 'error') result.errors += 1;
      else result.slow += 1;
      latencies[category].push(performance.now() - t0);
      if (trace) {
        result.traceIds[category].push(trace.traceId);
        if (trace.sampled) result.sampledByHead[category].push(trace.traceId);
      }
    } catch (err) {
      const e = err as Error & { cause?: Error };
      fail({ category, message: e.cause?.message ?? e.message });
    } finally {
      inFlight -= 1;
      result.sent += 1;
    }
  };

  // Each worker takes the next request number and waits for its slot in the rate schedule.
  const worker = async () => {
    for (;;) {
      if (options.count !== undefined && issued >= options.count) return;
      const n = issued++;
      if (options.rate !== undefined) {
        const due = started + (n * 1000) / options.rate;
        const wait = due - performance.now();
        if (due >= deadline) return;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (performance.now() >= deadline) return;
      await sendOne(n, next.next().value as Category);
    }
  };

  const ticker = options.onProgress
    ? setInterval(() => {
        const { sent, ok, errors, slow, failed } = result;
        options.onProgress!({ elapsedSeconds: elapsed(), sent, inFlight, ok, errors, slow, failed });
      }, 1000)
    : undefined;
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  for (const c of CATEGORIES) result.latencyMs[c] = spread(latencies[c]);
  result.elapsedSeconds = Math.round(elapsed() * 100) / 100;
  return result;
}
