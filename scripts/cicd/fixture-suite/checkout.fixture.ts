// Passes, quickly: the bulk of any suite.
import { describe, expect, it } from 'vitest';

describe('checkout', () => {
  it('adds up a basket', () => {
    expect([3, 4, 5].reduce((a, b) => a + b, 0)).toBe(12);
  });
  it('rejects an empty basket', () => {
    expect(() => {
      if ([].length === 0) throw new Error('empty basket');
    }).toThrow('empty basket');
  });
});
