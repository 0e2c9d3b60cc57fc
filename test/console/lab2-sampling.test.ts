// The console's Lab 2 tab on a running tail-sampling topology (direct: 2 LBs, 2 samplers), as
// `npm run lab:sampling -- --topology direct --console` serves it: the page shows the share kept
// per class, completeness and split traces that the report code computes from what the
// samplers exported, and the samplers' decisions over time drawn from their own counters.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDir } from '../../scripts/runtime/components.js';
import { waitFor } from '../../scripts/runtime/wait.js';
import { samplingConsoleContext } from '../../scripts/sampling/console.js';
import { startSamplingLab, type SamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, CATEGORIES, waitForDecisions, type TraceIds } from '../../scripts/sampling/report.js';
import { useLab } from '../support/lab.js';
import { useConsole, type Opened } from './browser.js';

useLab();

const ORDERS = 40;
let lab: SamplingLab;
let opened: Opened;
let sent: TraceIds = { ok: [], error: [], slow: [] };

/** The page's "Per class" table: class → [sent, kept, kept %, complete, incomplete]. */
async function perClassOnPage(): Promise<Record<string, number[]>> {
  return opened.page.evaluate(() => {
    const t = document.querySelector('table[data-table^="Per class"]');
    if (!t) return {};
    return Object.fromEntries([...t.querySelectorAll('tbody tr')].map((tr) => {
      const cells = [...tr.children].map((c) => c.textContent!.trim());
      return [cells[0], cells.slice(1).map(Number)];
    }));
  });
}

const ui = useConsole(async () => {
  lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2 });
  return { context: samplingConsoleContext(lab, 'tail sampling, direct', () => sent), path: '/#lab2' };
});
beforeAll(() => {
  opened = ui.opened;
});

describe("the console's Lab 2 tab on a running sampler tier", () => {
  it('shows every error and slow trace kept and complete, the ok ones sampled, no split trace: what the report computes', async () => {
    const ids = await lab.traffic(ORDERS);
    await waitForDecisions(lab.topology, CATEGORIES.reduce((n, c) => n + ids[c].length, 0));
    sent = ids;
    const report = analyse(lab.topology.capture.spans(), ids);
    let onPage: Record<string, number[]> = {};
    await waitFor(async () => {
      onPage = await perClassOnPage();
      return CATEGORIES.every((c) => onPage[c]?.[0] === ids[c].length);
    }, { what: `the Per class table with the ${ORDERS} orders sent`, timeoutMs: 15_000 }).catch((err) => {
      throw new Error(`${(err as Error).message}; the page shows ${JSON.stringify(onPage)}`);
    });
    for (const c of CATEGORIES) {
      const r = report.categories[c];
      expect(onPage[c], c).toEqual([r.sent, r.kept, Math.round((100 * r.kept) / r.sent), r.complete, Object.keys(r.incomplete).length]);
    }
    // The talk's claim, on the page: tail sampling keeps every error and slow trace, whole.
    expect(onPage.error.slice(0, 2)).toEqual([ids.error.length, ids.error.length]);
    expect(onPage.slow.slice(0, 2)).toEqual([ids.slow.length, ids.slow.length]);
    expect(onPage.ok[1]).toBeLessThan(ids.ok.length);
    // The picture says the same: each class's bar is as long as its kept share (rects in CATEGORIES order).
    const widths = await opened.page.locator('section[data-block="bars"] svg rect').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('width'))));
    expect(widths.length).toBe(CATEGORIES.length);
    const full = widths[CATEGORIES.indexOf('error')];
    CATEGORIES.forEach((c, i) => expect(widths[i] / full, `${c}'s bar`).toBeCloseTo(report.categories[c].kept / report.categories[c].sent, 1));
    const split = await opened.page.locator('table[data-table^="Split traces"] tbody td').nth(1).innerText();
    expect(split).toBe(String(Object.keys(report.split).length));
  });

  it("draws the samplers' decisions over time, from their own tail_sampling counters", async () => {
    const { page } = opened;
    await waitFor(async () => (await page.locator('section[data-block="lines"] svg[role="img"] path').count()) > 0, { what: 'the decisions-over-time plot', timeoutMs: 15_000 });
    const legend = await page.locator('section[data-block="lines"]').innerText();
    for (const s of lab.topology.samplers) expect(legend).toContain(`${s.id} kept`);
    expect(await page.locator('main#panel').getAttribute('data-state')).toBe('ok');
    expect(opened.errors).toEqual([]);
    const file = join(runDir('console-screenshots'), 'lab2-live.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  });
});
