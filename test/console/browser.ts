// The console's tests drive Debian's Chromium (scripts/build/packages.sh, set `browser`) with
// playwright-core, at a projector's 1280×720; every page error and console error is recorded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { ConsoleContext } from '../../scripts/console/context.js';
import { startConsole, type Console } from '../../scripts/console/server.js';

export const CHROMIUM = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';

export interface Opened {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught page errors, as the browser reported them. */
  errors: string[];
}

export async function openConsole(url: string): Promise<Opened> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's with \`bash scripts/build/packages.sh browser\` (or set LAB_CHROMIUM)`);
  }
  // --no-sandbox: the lab runs as root here, where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(url, { waitUntil: 'load' });
  return { browser, page, errors };
}

/** axe-core's WCAG 2 A/AA rules on the page as it is now; the violations, one line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  const axe = createRequire(import.meta.url)('axe-core') as { source: string };
  await page.addScriptTag({ content: axe.source });
  const result = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    return r.violations.map((v: any) => `${v.id} (${v.impact}): ${v.help}; e.g. ${v.nodes[0]?.html?.slice(0, 120)}`);
  });
  return result as string[];
}

/** What the page and its resources weighed on the wire, and when it had loaded (ms). */
export async function pageWeight(page: Page): Promise<{ transferredBytes: number; resources: number; loadMs: number }> {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return {
      transferredBytes: nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0),
      resources: res.length + 1,
      loadMs: Math.round(nav.loadEventEnd - nav.startTime),
    };
  });
}

export interface ConsoleUnderTest {
  readonly app: Console;
  readonly opened: Opened;
  readonly page: Page;
}

/**
 * One console and one Chromium page for a test file: `start` brings up what the file needs and
 * returns the console's context (and the page to open, e.g. '/#lab2'); both close after the file.
 */
export function useConsole(start: () => Promise<{ context: ConsoleContext; path?: string }>, timeoutMs = 180_000): ConsoleUnderTest {
  let app: Console | undefined;
  let opened: Opened | undefined;
  beforeAll(async () => {
    const { context, path = '/' } = await start();
    app = await startConsole(context);
    opened = await openConsole(`${app.url}${path}`);
  }, timeoutMs);
  afterAll(async () => {
    await opened?.browser.close();
    await app?.close();
  });
  return {
    get app() {
      return app!;
    },
    get opened() {
      return opened!;
    },
    get page() {
      return opened!.page;
    },
  };
}
