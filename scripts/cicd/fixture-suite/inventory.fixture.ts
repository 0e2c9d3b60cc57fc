// One test that is flaky: its first attempt fails (a lost connection), its retry passes.
import { describe, expect, it } from 'vitest';

describe('inventory', () => {
  it('reserves stock', { retry: 2 }, ({ task }) => {
    if ((task.result?.retryCount ?? 0) === 0) throw new Error('ECONNRESET: stock service hung up (first attempt)');
    expect(task.result?.retryCount).toBe(1);
  });
  it('lists the warehouses', () => {
    expect(['north', 'south']).toHaveLength(2);
  });
});
