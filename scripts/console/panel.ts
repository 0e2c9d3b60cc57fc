// One panel of the workshop console: a talk's claim and the live evidence for it. Each panel is
// one module in panels/ whose default export is a Panel; the registry (registry.ts) finds them,
// so a later lab (cicd, cardinality, profiling, …) adds its panel by adding one file there,
// calling the report function its scripts/<lab>/ folder exports.
import type { ConsoleContext } from './context.js';
import type { Block, PanelView } from './view.js';

export interface Panel {
  /** The URL fragment (#id) and the API path (/api/panels/id). */
  id: string;
  /** The tab's title, e.g. "Lab 1: scrape vs OTLP". */
  title: string;
  /** Place in the tab row (Overview 0, Traces 10, Lab 1 20, …). */
  order: number;
  /** What the talk claimed: the sentence the live data below proves or breaks. */
  claim: string;
  /** The components (ComponentInfo.name) it reads: any of them down turns the panel red, naming it. */
  uses(ctx: ConsoleContext): string[];
  /** The evidence, read from the backends now. Blocks, or a whole view (e.g. state 'empty'). */
  render(ctx: ConsoleContext): Promise<Block[] | PanelView>;
  /** Started once with the console, for panels that keep a history (e.g. decisions over time); returns a stop. */
  watch?(ctx: ConsoleContext): () => void;
}

export const definePanel = (p: Panel): Panel => p;
