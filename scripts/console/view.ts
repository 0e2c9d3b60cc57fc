// What a panel returns: a claim and a list of blocks the page knows how to draw (public/app.js).
// A new lab's panel composes these; only a new kind of picture needs a new block type.

export type Tone = 'good' | 'bad' | 'warn' | undefined;
/** A table cell: text, or text with a tone (green / red / amber) and a hint shown on hover. */
export type CellValue = string | number | { text: string; tone?: Tone; title?: string; mono?: boolean };

export type Block =
  | { type: 'text'; text: string }
  /** "What to do": an empty store or a lab not running here, with the command that fills it. */
  | { type: 'empty'; text: string; command?: string }
  | { type: 'table'; caption: string; columns: string[]; rows: CellValue[][] }
  /** Bars (Observable Plot barX): one per row; `series` colours them. */
  | { type: 'bars'; caption: string; data: { label: string; value: number; series?: string }[]; xLabel: string; percent?: boolean }
  /** Lines over time (Observable Plot lineY): t in ms since the epoch. */
  | { type: 'lines'; caption: string; data: { t: number; value: number; series: string }[]; yLabel: string }
  /** A directed graph drawn with Plot's dot/arrow/text marks on a layered layout. */
  | { type: 'graph'; caption: string; nodes: { id: string; x: number; y: number; kind?: string }[]; edges: { from: string; to: string; label: string }[] }
  /** Latest traces: each row opens the trace's waterfall. */
  | { type: 'traces'; caption: string; traces: TraceSummary[] }
  /** Buttons placing an order (ok / error / slow) and the trace lookup box. */
  | { type: 'order-controls' }
  /** A unified diff, one line each, prefixed '+', '-' or ' '. */
  | { type: 'diff'; caption: string; lines: string[] };

export interface TraceSummary {
  traceId: string;
  root: string;
  service: string;
  startMs: number;
  durationMs: number;
  status: 'ok' | 'error';
  spans: number;
}

export interface PanelView {
  /** ok: live data; empty: nothing to show yet (blocks say how to fill it); down: a backend does not answer. */
  state: 'ok' | 'empty' | 'down';
  /** When down: the component, why, and where its log is. */
  down?: { component: string; problem: string; log: string }[];
  blocks: Block[];
}
