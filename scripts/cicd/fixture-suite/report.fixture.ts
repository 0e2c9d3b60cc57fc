// One test that is slow: it does its work in REPORT_WORK_MS (the lab's "code change" raises it).
import { describe, expect, it } from 'vitest';

const REPORT_WORK_MS = 900;

describe('report', () => {
  it('renders the monthly report', async () => {
    const t0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, REPORT_WORK_MS));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(REPORT_WORK_MS - 5);
  });
});
