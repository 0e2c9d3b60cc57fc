// A backend stopped while the console is open: its panels turn red within a deadline, naming it
// and its log file; started again on the same ports, they recover (and the now empty store
// says how to fill it). Jaeger is the backend here: the Overview and the Traces panel read it.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComponentInfo } from '../../scripts/console/context.js';
import { runDir } from '../../scripts/runtime/components.js';
import { startJaeger, type Jaeger } from '../../scripts/runtime/jaeger.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { useLab } from '../support/lab.js';
import { useConsole, type Opened } from './browser.js';

useLab();

/** The console refreshes every 3 s and a health check gives up after 1.5 s: red within 10 s. */
const RED_WITHIN_MS = 10_000;

let jaeger: Jaeger;
let opened: Opened;
const shots = runDir('console-screenshots');
const jaegerInfo = (): ComponentInfo => ({
  name: 'Jaeger',
  role: 'trace store (query API)',
  address: jaeger.queryUrl,
  health: `http://${jaeger.listen.HEALTH_LISTEN}/status`,
  log: jaeger.process.logFile,
});

const ui = useConsole(async () => {
  jaeger = await startJaeger();
  return { context: { components: () => [jaegerInfo()], jaegerUrl: jaeger.queryUrl }, path: '/#traces' };
});
beforeAll(() => {
  opened = ui.opened;
});

describe('a backend stopped mid-session', () => {
  it('the Traces panel is red within 10 s, naming Jaeger and its log file', async () => {
    const { page } = opened;
    await waitFor(async () => (await page.locator('main#panel').getAttribute('data-state')) === 'ok', { what: 'the Traces panel with Jaeger up', timeoutMs: 15_000 });
    const log = jaeger.process.logFile;
    const stopping = Date.now();
    await jaeger.stop(); // SIGTERM, and Jaeger's own graceful shutdown: the deadline starts once it is gone
    const t0 = Date.now();
    await waitFor(async () => (await page.locator('main#panel').getAttribute('data-state')) === 'down', { what: 'the Traces panel to turn red', timeoutMs: RED_WITHIN_MS });
    console.log(`red ${Date.now() - t0} ms after Jaeger exited (its stop took ${t0 - stopping} ms)`);
    const alert = page.locator('[role="alert"]');
    expect(await alert.getAttribute('data-down')).toBe('Jaeger');
    expect(await alert.innerText()).toContain('Jaeger is down');
    expect(await alert.innerText()).toContain(log);
    // Red means red: the panel's background, not only a word.
    expect(await page.locator('main#panel').evaluate((m) => getComputedStyle(m).backgroundColor)).toBe('rgb(74, 20, 20)');
    const file = join(shots, 'traces-jaeger-down.png');
    await page.screenshot({ path: file });
    console.log(`screenshot: ${file}`);
  });

  it('Jaeger started again on the same ports: the panel recovers, and its empty store says how to fill it', async () => {
    const { page } = opened;
    jaeger = await startJaeger({ env: { ...jaeger.listen } });
    await waitFor(async () => (await page.locator('main#panel').getAttribute('data-state')) === 'ok', { what: 'the Traces panel to recover', timeoutMs: RED_WITHIN_MS });
    expect(await page.locator('[role="alert"]').count()).toBe(0);
    expect(await page.locator('[data-block="empty"]').innerText()).toContain('Jaeger holds no trace yet');
    expect(opened.errors).toEqual([]);
  });
});
