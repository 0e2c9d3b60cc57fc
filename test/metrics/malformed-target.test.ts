// Lab 1, bad input: one more scrape target, next to the real services in the shared targets
// file, answers /metrics with text that is not valid exposition format. Both scrapers (Prometheus,
// path 1, and the collector's prometheus receiver, path 3) must report it — up=0 for that
// target, an error saying why — and keep scraping everything else.
// up is documented as 1 for a healthy scrape and 0 for a failed one
// (prometheus.io/docs/concepts/jobs_instances/#automatically-generated-labels-and-time-series);
// the receiver reports its own up series and logs "Failed to scrape Prometheus endpoint".
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMix, runTraffic } from '../../scripts/traffic/index.js';
import { selector, type LabPath } from '../../scripts/metrics/paths.js';
import { freePort, waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { SERVICE_NAMES } from '../../scripts/runtime/services.js';
import { startLab1, type Lab1 } from '../../scripts/metrics/lab.js';

// A counter sample whose label set is never closed: the text parsers stop at the first line.
const MALFORMED = '# TYPE lab_broken_total counter\nlab_broken_total{route="/x" 1\n';
const SCRAPE_PATHS: LabPath[] = ['1-scrape', '3-collector-scrape'];

describe('a scrape target serving malformed exposition text', () => {
  useLab();
  let lab: Lab1;
  let broken: Server;
  let brokenAddress: string;

  beforeAll(async () => {
    const port = await freePort();
    broken = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(MALFORMED);
    });
    await new Promise<void>((resolve) => broken.listen(port, '127.0.0.1', resolve));
    brokenAddress = `127.0.0.1:${port}`;
    lab = await startLab1({ extraTargets: [{ job: 'broken', address: brokenAddress }] });
  });
  afterAll(() => new Promise<void>((resolve) => broken?.close(() => resolve())));

  it('Prometheus marks it down (up=0) and shows the parse error on its target', async () => {
    await lab.waitForValue(selector('up', 'broken', '1-scrape'), 0);
    const target = await waitFor(async () => {
      const body = (await (await fetch(`${lab.prometheus.url}/api/v1/targets?state=active`)).json()) as any;
      return body.data.activeTargets.find((t: any) => t.labels.job === 'broken' && t.lastError);
    }, { what: 'the broken target with a lastError in /api/v1/targets' });
    expect(target.health).toBe('down');
    expect(target.lastError).toMatch(/expected|invalid|parse/i);
  });

  it('the collector\'s prometheus receiver reports it the same way: up=0 for it, and a "Failed to scrape" log line', async () => {
    await lab.waitForValue(selector('up', 'broken', '3-collector-scrape'), 0);
    // Both on one log line (one record): the failure is about the broken target, not another one.
    await waitFor(() => readFileSync(lab.scraper.process.logFile, 'utf8').split('\n')
      .some((line) => line.includes('Failed to scrape Prometheus endpoint') && line.includes(brokenAddress)),
    { what: `the receiver to log "Failed to scrape Prometheus endpoint" for ${brokenAddress} on one line` });
    expect(await lab.query(`{lab_path="3-collector-scrape", __name__=~"lab_broken.*"}`)).toEqual([]);
  });

  it('nothing else breaks: every service stays up on both scrape paths and new traffic is counted on every path', async () => {
    for (const path of SCRAPE_PATHS) {
      for (const service of SERVICE_NAMES) await lab.waitForValue(selector('up', service, path), 1);
    }
    const traffic = await runTraffic({ target: lab.services.gateway.url, count: 8, concurrency: 4, mix: parseMix('ok=1') });
    expect(traffic.ok).toBe(8);
    for (const path of [...SCRAPE_PATHS, '2-otlp-collector-rw', '4-otlp-native'] as LabPath[]) {
      await lab.waitForValue(selector('lab_http_server_requests_total', 'gateway', path, 'http_route="/orders"'), 8);
    }
  });
});
