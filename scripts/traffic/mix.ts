// The request mix: which share of orders ask for an error, a slow payment, or nothing special.
// Spread deterministically (smooth weighted round-robin), so 10 requests at ok=80,error=10,slow=10
// are exactly 8 ok, 1 error, 1 slow, interleaved — a test can count on the numbers.

export const CATEGORIES = ['ok', 'error', 'slow'] as const;
export type Category = (typeof CATEGORIES)[number];
export type Mix = Record<Category, number>;

/** Parses "ok=80,error=10,slow=10" (weights, any scale; missing categories weigh 0). */
export function parseMix(text: string): Mix {
  const mix: Mix = { ok: 0, error: 0, slow: 0 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`--mix: "${part}" is not category=weight (example: ok=80,error=10,slow=10)`);
    if (!(CATEGORIES as readonly string[]).includes(m[1])) {
      throw new Error(`--mix: unknown category "${m[1]}" (known: ${CATEGORIES.join(', ')})`);
    }
    mix[m[1] as Category] = Number(m[2]);
  }
  if (CATEGORIES.every((c) => mix[c] === 0)) throw new Error('--mix: all weights are 0, nothing to send');
  return mix;
}

/** An endless sequence of categories in the mix's proportions. */
export function* categories(mix: Mix): Generator<Category> {
  const total = CATEGORIES.reduce((sum, c) => sum + mix[c], 0);
  const current: Mix = { ok: 0, error: 0, slow: 0 };
  for (;;) {
    let best: Category = 'ok';
    for (const c of CATEGORIES) {
      current[c] += mix[c];
      if (current[c] > current[best] || (current[best] === current[c] && mix[c] > mix[best])) best = c;
    }
    current[best] -= total;
    yield best;
  }
}
