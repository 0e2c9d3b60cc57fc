// A telemetry capture: a real collector (collector/capture.yaml) that writes whatever it
// receives to OTLP JSON files. Point the system under test at `otlpHttp` / `otlpGrpc`, then
// read back spans and metric points, polling with a deadline.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCollector, type Collector } from './collector.js';
import { runDir } from './components.js';
import { metricPointsOf, spansOf, type MetricPoint, type Span } from './otlp.js';
import { waitFor } from './wait.js';

export interface Capture extends Collector {
  dir: string;
  spans(): Span[];
  metricPoints(): MetricPoint[];
  /** Waits until `select(all spans)` returns something truthy, and returns it. */
  waitForSpans<T>(select: (spans: Span[]) => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
  waitForMetrics<T>(select: (points: MetricPoint[]) => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
}

/**
 * The JSON documents of a JSON-lines file (the file exporter writes one OTLP request a line).
 * Only the last line may be unparsable, half-written while the exporter flushes: it is read on
 * the next poll. A bad line anywhere else is corruption, and throws naming the file and line.
 */
export function readJsonLines(file: string): any[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const out: any[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      // Half-written: the last line, not yet ended by its newline.
      const halfWritten = i === lines.length - 1 && !text.endsWith('\n');
      if (!halfWritten) throw new Error(`${file}, line ${i + 1}, is not JSON (${(err as Error).message}): ${line.slice(0, 120)}`);
    }
  }
  return out;
}

/** The spans a capture collector wrote to its directory so far. */
export const capturedSpans = (dir: string): Span[] => readJsonLines(join(dir, 'traces.jsonl')).flatMap(spansOf);
/** The metric points a capture collector wrote to its directory so far. */
export const capturedMetricPoints = (dir: string): MetricPoint[] => readJsonLines(join(dir, 'metrics.jsonl')).flatMap(metricPointsOf);

export async function startCapture(name = 'capture'): Promise<Capture> {
  const dir = runDir(name);
  const collector = await startCollector({ config: 'collector/capture.yaml', name, env: { CAPTURE_DIR: dir } });
  const spans = () => capturedSpans(dir);
  const metricPoints = () => capturedMetricPoints(dir);
  return {
    ...collector,
    dir,
    spans,
    metricPoints,
    waitForSpans: (select, what, timeoutMs = 20_000) =>
      waitFor(() => select(spans()), { what: `${what} in ${name}`, timeoutMs }),
    waitForMetrics: (select, what, timeoutMs = 20_000) =>
      waitFor(() => select(metricPoints()), { what: `${what} in ${name}`, timeoutMs }),
  };
}
