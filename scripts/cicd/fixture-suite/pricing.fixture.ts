// One test that fails, always: a real assertion, wrong on purpose.
import { describe, expect, it } from 'vitest';

describe('pricing', () => {
  it('applies the discount', () => {
    expect(Math.round(100 * 0.9)).toBe(90);
  });
  it('rounds VAT to the cent', () => {
    expect(Math.round(19.999 * 100) / 100).toBe(19.99);
  });
});
