// The workshop console on the native lab, in a real browser: the page loads without an error,
// every panel shows live data read from the real backends, an order placed from the page comes
// back as its whole trace, Lab 1's table holds what `lab:metrics` computes, the keyboard reaches
// everything and axe-core finds no WCAG A/AA violation. Screenshots of every panel land in a run
// directory (printed). The steps run in order: each builds on the orders the one before placed.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Console } from '../../scripts/console/server.js';
import { selector } from '../../scripts/metrics/paths.js';
import { renderMarkdown, scrapeVsOtlp } from '../../scripts/metrics/report.js';
import { startNativeLab, type NativeLab } from '../../scripts/native-lab.js';
import { runDir } from '../../scripts/runtime/components.js';
import { spanCount } from '../../scripts/runtime/orders.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { useLab } from '../support/lab.js';
import { axeViolations, pageWeight, useConsole, type Opened } from './browser.js';

useLab();

let lab: NativeLab;
let app: Console;
let opened: Opened;
let page: Page;
const shots = runDir('console-screenshots');

async function screenshot(name: string) {
  const file = join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot: ${file}`);
}

/** Tabs forward until the focused element matches `css`; fails naming what focus passed. */
async function tabTo(css: string, max = 40): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, css)) return;
    seen.push(await page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.textContent?.trim().slice(0, 20)}`));
  }
  throw new Error(`Tab never reached ${css}; focus went ${seen.join(' → ')}`);
}

const panelState = (p: Page) => p.locator('main#panel').getAttribute('data-state');

/** The page's Lab 1 row for the gateway's answers: per path, status code → count. */
async function gatewayCountsOnPage(): Promise<Record<string, Record<string, number>>> {
  return page.evaluate(() => {
    const t = [...document.querySelectorAll('table[data-table]')].find((x) => x.getAttribute('data-table')!.startsWith('Each measurement'))!;
    const paths = [...t.querySelectorAll('thead th')].slice(1).map((th) => th.textContent!);
    const row = t.querySelector('tbody tr')!;
    const out: Record<string, Record<string, number>> = {};
    [...row.querySelectorAll('td')].forEach((td, i) => {
      for (const line of td.textContent!.split('\n')) {
        const m = /http_response_status_code="(\d+)".*\s(\d+(?:\.\d+)?)$/.exec(line.trim());
        if (m) (out[paths[i]] ??= {})[m[1]] = Number(m[2]);
      }
    });
    return out;
  });
}

/** The same row from the Markdown `lab:metrics` prints (scripts/metrics/report.ts). */
function gatewayCountsInMarkdown(markdown: string): Record<string, Record<string, number>> {
  const lines = markdown.split('\n');
  const paths = lines[0].split('|').slice(2, -1).map((s) => s.trim());
  const cells = lines[2].split('|').slice(2, -1);
  const out: Record<string, Record<string, number>> = {};
  cells.forEach((cell, i) => {
    for (const part of cell.split('<br>')) {
      const m = /http_response_status_code="(\d+)".*\*\*(\d+(?:\.\d+)?)\*\*/.exec(part);
      if (m) (out[paths[i]] ??= {})[m[1]] = Number(m[2]);
    }
  });
  return out;
}

const ui = useConsole(async () => {
  lab = await startNativeLab();
  return {
    context: {
      components: () => lab.components(),
      prometheusUrl: lab.metrics.prometheus.url,
      jaegerUrl: lab.jaeger.queryUrl,
      gatewayUrl: lab.services.gateway.url,
    },
  };
});
beforeAll(() => {
  ({ app, opened, page } = ui);
});

describe('the workshop console on the native lab, in Chromium', () => {
  it('loads light and without a console error, every panel in the tab row', async () => {
    await page.locator('nav a').first().waitFor();
    expect(await page.locator('nav a').allTextContents()).toEqual(app.panels.map((p) => p.title));
    const weight = await pageWeight(page);
    console.log(`page: ${(weight.transferredBytes / 1024).toFixed(0)} KiB transferred in ${weight.resources} requests, loaded in ${weight.loadMs} ms`);
    // d3 + Plot gzipped are most of it; a projector page has no business weighing more.
    expect(weight.transferredBytes).toBeLessThan(300 * 1024);
    expect(opened.errors).toEqual([]);
  });

  it('Overview: every component is up, at its address', async () => {
    await waitFor(async () => (await page.locator('td.good').count()) === lab.components().length, { what: 'every component row to say up', timeoutMs: 15_000 });
    const text = await page.locator('main').innerText();
    for (const c of lab.components()) expect(text).toContain(c.address);
    expect(await page.locator('td.bad').count()).toBe(0);
  });

  it('Traces: an order placed from the page (keyboard only) opens its trace with all 14 spans', async () => {
    await page.locator('body').focus();
    await tabTo('nav a[data-panel="traces"]');
    await page.keyboard.press('Enter');
    await tabTo('button[data-order="ok"]');
    await page.keyboard.press('Enter');
    const detail = page.locator('#trace-detail');
    await waitFor(async () => (await detail.getAttribute('data-spans')) === String(spanCount('ok')), { what: `the waterfall of the ok order with ${spanCount('ok')} spans`, timeoutMs: 30_000 });
    const traceId = await detail.getAttribute('data-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // The page drew what Jaeger holds: the same spans, read back through the query API.
    expect((await lab.jaeger.trace(traceId!)).length).toBe(spanCount('ok'));
    expect(await detail.locator('details').count()).toBe(spanCount('ok'));
    await screenshot('traces-waterfall');
  });

  it('Traces: an error and a slow order open theirs, and the list shows all three', async () => {
    for (const kind of ['error', 'slow'] as const) {
      await page.locator(`button[data-order="${kind}"]`).click();
      await waitFor(async () => (await page.locator('#order-status').innerText()).includes(`all ${spanCount(kind)} spans arrived`), { what: `the ${kind} order's trace`, timeoutMs: 30_000 });
      await page.locator('#trace-detail').scrollIntoViewIfNeeded();
      await screenshot(`traces-${kind}-order`);
    }
    await waitFor(async () => (await page.locator('table[data-table^="Latest"] tbody tr').count()) >= 3, { what: 'three traces in the list', timeoutMs: 15_000 });
    expect(await page.locator('table[data-table^="Latest"] td.bad').count()).toBeGreaterThanOrEqual(1);
    // Lookup by the traceresponse header value of an order placed elsewhere (curl, say).
    const res = await fetch(`${lab.services.gateway.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customer":"ada","item":"book","quantity":1}' });
    const traceresponse = res.headers.get('traceresponse')!;
    await page.locator('#lookup').fill(traceresponse);
    await page.locator('#lookup').press('Enter');
    // Looked up at once, the trace may not be all stored yet: the open waterfall fills in as its spans arrive.
    await waitFor(
      async () =>
        (await page.locator('#trace-detail').getAttribute('data-trace-id')) === traceresponse.split('-')[1] &&
        (await page.locator('#trace-detail').getAttribute('data-spans')) === String(spanCount('ok')),
      { what: `the looked-up trace ${traceresponse} with its ${spanCount('ok')} spans`, timeoutMs: 20_000, intervalMs: 500 },
    );
  });

  it('Overview: the service map drawn from the stored traces shows gateway → orders → payments and orders → Kafka → fulfillment', async () => {
    await page.locator('nav a[data-panel="overview"]').click();
    await waitFor(async () => (await page.locator('section[data-block="graph"]').count()) === 1, { what: 'the service map', timeoutMs: 15_000 });
    const labels = await page.locator('section[data-block="graph"] svg text').allTextContents();
    for (const node of ['gateway', 'orders', 'payments', 'Kafka', 'fulfillment']) expect(labels).toContain(node);
    await screenshot('overview');
    await page.locator('table[data-table="Components"]').scrollIntoViewIfNeeded();
    await screenshot('overview-components');
  });

  it('Lab 1: the table shows the counts lab:metrics computes, on every path', async () => {
    // Accepted orders: ok + slow + the looked-up one; refused: the error one.
    const accepted = 3;
    for (const path of ['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'] as const) {
      await lab.metrics.waitForValue(selector('lab_http_server_requests_total', 'gateway', path, 'http_route="/orders", http_response_status_code="201"'), accepted, 30_000);
    }
    await page.locator('nav a[data-panel="lab1"]').click();
    let onPage: Record<string, Record<string, number>> = {};
    await waitFor(
      async () => {
        onPage = await gatewayCountsOnPage().catch(() => ({}));
        return ['1-scrape', '2-otlp-collector-rw', '3-collector-scrape', '4-otlp-native'].every((p) => onPage[p]?.['201'] === accepted && onPage[p]?.['502'] === 1);
      },
      { what: `the page's Lab 1 table to show ${accepted} × 201 and 1 × 502 on the four cumulative paths`, timeoutMs: 15_000 },
    ).catch((err) => {
      throw new Error(`${(err as Error).message}; the page shows ${JSON.stringify(onPage)}`);
    });
    const printed = gatewayCountsInMarkdown(renderMarkdown(await scrapeVsOtlp(lab.metrics.prometheus.url)));
    expect(onPage).toEqual(printed);
    // The delta paths: the raw ones are missing, with their reason on the page.
    const text = await page.locator('main').innerText();
    expect(text).toContain('refuses delta sums');
    await screenshot('lab1');
  });

  it('Lab 2 and Lab 3 say what to run when their topology is not in this process', async () => {
    for (const [id, command] of [['lab2', 'npm run lab:sampling -- --topology direct --console'], ['lab3', 'npm run lab:k8s -- --console']] as const) {
      await page.locator(`nav a[data-panel="${id}"]`).click();
      await page.locator('[data-block="empty"] code').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-block="empty"] code').innerText()).toBe(command);
      expect(await panelState(page)).toBe('empty');
      await screenshot(id);
    }
  });

  it('every panel passes axe-core (WCAG 2 A/AA) and no console error happened on the way', async () => {
    const violations: string[] = [];
    for (const p of app.panels) {
      await page.locator(`nav a[data-panel="${p.id}"]`).click();
      await waitFor(async () => (await panelState(page)) !== null, { what: `panel ${p.id} to render`, timeoutMs: 10_000 });
      violations.push(...(await axeViolations(page)).map((v) => `${p.id}: ${v}`));
    }
    expect(violations).toEqual([]);
    expect(opened.errors).toEqual([]);
  });
});
