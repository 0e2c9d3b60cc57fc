// Lab 2 under faults, direct topology (services → 2 LBs → 2 samplers): a sampler killed with
// kill -9 and started again, and a sampler frozen (SIGSTOP) and thawed (SIGCONT), while orders
// flow. Counted against the traffic's ground truth (every trace id and its kind). The tests run
// in order on one lab, each with its own traffic; the table is printed at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startSamplingLab, SAMPLER_ENV, type SamplingLab } from '../../scripts/sampling/lab.js';
import { crashGap, formatFaultTable, runFault, type FaultRow } from '../../scripts/sampling/faults.js';

const ORDERS = 100;
const RATE = 20;
const WAIT = Number.parseFloat(SAMPLER_ENV.DECISION_WAIT);

describe('faults under traffic, direct topology', () => {
  useLab();
  let lab: SamplingLab;
  const rows: FaultRow[] = [];

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'direct', samplers: 2, lbs: 2 });
  });
  afterAll(() => console.log(`\n${formatFaultTable(rows)}`));

  it('kill -9 of a sampler loses at most the traces it held in memory: about rate × decision_wait × its share', async () => {
    const row = await runFault(lab, 'sampler-kill', ORDERS, { rate: RATE }, WAIT);
    rows.push(row);
    // It holds the traces that started within the last decision_wait; half are its (hash ring of two).
    const { held, most } = crashGap(row);
    expect(held, 'traces sampler-2 held undecided at the kill').toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(most);
    // Only what it held can be lost: the LB's exporter queued and retried everything sent to it
    // while it was down, and the restarted sampler decided that.
    expect(row.lostErrorSlow, 'error+slow traces lost or incomplete').toBeLessThanOrEqual(held);
    expect(row.spansRefused, 'spans the LB tier refused').toBe(0);
  }, 120_000);

  it('a stalled sampler (SIGSTOP, then SIGCONT) loses nothing: the LB retries, every error and slow trace kept complete', async () => {
    const row = await runFault(lab, 'sampler-stall', ORDERS, { rate: RATE }, WAIT);
    rows.push(row);
    for (const c of ['error', 'slow'] as const) {
      expect(row.report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
      expect(row.report.categories[c].incomplete, `incomplete ${c} traces`).toEqual({});
      expect(row.report.categories[c].complete, `${c} traces kept complete`).toBe(row.report.categories[c].sent);
    }
    expect(row.report.unstampedSpans).toBe(0);
    expect(row.report.split, 'traces split over two samplers').toEqual({});
    expect(row.report.duplicateSpans, 'duplicate spans').toBe(0);
  }, 120_000);
});
