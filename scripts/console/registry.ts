// The console's panels: every module in panels/ (its default export), in their `order`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Panel } from './panel.js';

const PANELS_DIR = join(import.meta.dirname, 'panels');

export async function loadPanels(dir = PANELS_DIR): Promise<Panel[]> {
  const files = readdirSync(dir).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).sort();
  const panels: Panel[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: Panel };
    const p = mod.default;
    if (!p || typeof p.render !== 'function' || !p.id) throw new Error(`${join(dir, f)}: its default export is not a Panel (definePanel({ id, title, order, claim, uses, render }))`);
    if (panels.some((q) => q.id === p.id)) throw new Error(`${join(dir, f)}: panel id '${p.id}' is taken`);
    panels.push(p);
  }
  return panels.sort((a, b) => a.order - b.order);
}
