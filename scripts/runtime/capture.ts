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

function readJsonLines(file: string): any[] {
  if (!existsSync(file)) return [];
  const out: any[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // The last line can be half-written while the exporter flushes: it is read next poll.
    }
  }
  return out;
}

export async function startCapture(name = 'capture'): Promise<Capture> {
  const dir = runDir(name);
  const collector = await startCollector({ config: 'collector/capture.yaml', name, env: { CAPTURE_DIR: dir } });
  const spans = () => readJsonLines(join(dir, 'traces.jsonl')).flatMap(spansOf);
  const metricPoints = () => readJsonLines(join(dir, 'metrics.jsonl')).flatMap(metricPointsOf);
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
