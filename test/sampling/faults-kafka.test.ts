// Lab 2 under faults, Kafka in the middle (services → 2 LBs → topic, 4 partitions → 2 samplers
// in one group; the spans on a broker of their own, so a broker fault leaves the shop's orders
// topic alone): kill -9 of a sampler, a stalled sampler, kill -9 of the broker, and poison
// messages written straight into the spans topic. Counted against the traffic's ground truth.
// The tests run in order on one lab, each with its own traffic; the table is printed at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/index.js';
import { scrape, sumOf } from '../../scripts/runtime/prom-text.js';
import { useLab } from '../support/lab.js';
import { startSamplingLab, SAMPLER_ENV, type SamplingLab } from '../../scripts/sampling/lab.js';
import { analyse, formatReport, samplerLines, waitForDecisions } from '../../scripts/sampling/report.js';
import { crashGap, formatFaultTable, runFault, type FaultRow } from '../../scripts/sampling/faults.js';

const ORDERS = 100;
const RATE = 20;
const WAIT = Number.parseFloat(SAMPLER_ENV.DECISION_WAIT);

describe('faults under traffic, Kafka in the middle', () => {
  useLab();
  let lab: SamplingLab;
  const rows: FaultRow[] = [];

  beforeAll(async () => {
    lab = await startSamplingLab({ kind: 'kafka', samplers: 2, lbs: 2, ownSpansBroker: true });
  });
  afterAll(() => console.log(`\n${formatFaultTable(rows)}`));

  const expectZeroLoss = (row: FaultRow) => {
    for (const c of ['error', 'slow'] as const) {
      expect(row.report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
      expect(row.report.categories[c].kept, `${c} traces kept`).toBe(row.report.categories[c].sent);
    }
    expect(row.report.unstampedSpans, 'exported spans without lab.sampler').toBe(0);
  };

  it('kill -9 of a sampler loses traces Kafka had already marked consumed: at most what it held, about rate × decision_wait × its share', async () => {
    const row = await runFault(lab, 'sampler-kill', ORDERS, { rate: RATE }, WAIT);
    rows.push(row);
    // It holds the traces that started within the last decision_wait; 2 of the 4 partitions are its.
    const { held, most } = crashGap(row);
    // The crash gap exists: the receiver marks a message consumed when it is fetched, so what the
    // sampler held is not in Kafka's unread part any more; a SIGTERM would have decided it.
    expect(held, 'traces sampler-2 held undecided at the kill').toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(most);
    expect(row.lostErrorSlow, 'error+slow traces lost or incomplete').toBeLessThanOrEqual(held);
    expect(row.spansRefused, 'spans the LB tier refused').toBe(0);
  }, 150_000);

  it('a stalled sampler (SIGSTOP shorter than the session timeout, then SIGCONT) loses nothing: Kafka holds its partitions unread', async () => {
    const row = await runFault(lab, 'sampler-stall', ORDERS, { rate: RATE }, WAIT);
    rows.push(row);
    expectZeroLoss(row);
    for (const c of ['error', 'slow'] as const) expect(row.report.categories[c].incomplete, `incomplete ${c} traces`).toEqual({});
    expect(row.report.split, 'traces split over two samplers').toEqual({});
    expect(row.report.duplicateSpans, 'duplicate spans').toBe(0);
  }, 150_000);

  it('kill -9 of the broker loses no span: what is lost is lost late, traces whose spans arrived after their decision', async () => {
    const row = await runFault(lab, 'broker-kill', ORDERS, { rate: RATE }, WAIT);
    rows.push(row);
    // The LBs queue and retry, the broker recovers its log: every span the orders made was
    // accepted, and runFault waited until the LBs delivered all of it and the group read it all.
    expect(row.spansRefused, 'spans the LB tier refused').toBe(0);
    expect(row.spansAccepted, 'spans the LB tier accepted').toBe(row.spansMade);
    // But the batches of one trace wait differently (two LBs, several batches per service): a
    // trace whose first spans came through before the kill is decided on them, and when the
    // broker is down longer than decision_wait minus the trace's length the rest arrives late
    // and follows that decision. A trace lost here is one whose late spans were dropped.
    const lost = (['error', 'slow'] as const).reduce((n, c) => n + row.report.categories[c].sent - row.report.categories[c].kept, 0);
    expect(lost, 'error+slow traces lost').toBeLessThanOrEqual(row.lateSpansDropped);
    // And when the broker is back the group rebalances: what was read but not yet committed is
    // read again (duplicates), and a partition that moves splits its traces in flight (reported).
    console.log(`broker kill: ${lost} error+slow traces lost, ${row.lateSpansDropped} late spans dropped; ${row.completeErrorSlow} of ${row.keptErrorSlow} kept complete, ${Object.keys(row.report.split).length} split, ${row.report.duplicateSpans} duplicate spans`);
  }, 180_000);

  const unmarshalFailures = async () => {
    let n = 0;
    for (const s of lab.topology.samplers) n += sumOf(await scrape(s.collector.telemetryUrl), 'otelcol_kafka_receiver_unmarshal_failed_spans_total') ?? 0;
    return n;
  };

  it('a poison message in the spans topic is skipped: the group keeps consuming, a sampler logs the partition and offset, every error and slow trace kept', async () => {
    const { topology } = lab;
    const [garbage] = await topology.writeToSpansTopic([
      { partition: 0, value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]) },
      { partition: 1, value: Buffer.alloc(0) },
    ]);
    const ids = await lab.traffic(60);
    await waitForDecisions(topology, 60);
    expect(await topology.lag(), 'messages of the spans topic the group has not consumed').toBe(0);
    const report = analyse(topology.capture.spans(), ids);
    console.log(formatReport('poison messages in partitions 0 (garbage) and 1 (empty)', report, await samplerLines(topology)));
    for (const c of ['error', 'slow'] as const) expect(report.categories[c].complete, `${c} traces kept complete`).toBe(report.categories[c].sent);
    // The garbage cannot be decoded (counted, logged with where it was); an empty message is a
    // valid, empty OTLP request: nothing to say about it.
    expect(await unmarshalFailures(), 'messages the samplers could not decode').toBe(1);
    const where = new RegExp(`skipping due to message_marking config.*"partition": 0.*"offset": ${garbage.offset}\\b`);
    expect(
      topology.samplers.some((s) => where.test(s.collector.process.logTail(400))),
      `a sampler's log names partition 0, offset ${garbage.offset}`,
    ).toBe(true);
  }, 150_000);

  it('with message_marking after the pipeline, a poison message stops its partition; the way out: on_permanent_error: true', async () => {
    const { topology } = lab;
    const restartAll = async (env: Record<string, string>) => {
      for (let i = 0; i < topology.samplers.length; i++) await topology.stopSampler(i);
      for (let i = 0; i < topology.samplers.length; i++) await topology.startSampler(i, { env });
      await topology.waitForConsumers();
    };
    await restartAll({ MARK_AFTER_PIPELINE: 'true', MARK_ON_PERMANENT_ERROR: 'false' });
    const [poison] = await topology.writeToSpansTopic([{ partition: 2, value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x02]) }]);
    const ids = await lab.traffic(40);
    // Every other partition drains; partition 2 stays behind its poison message, for good.
    const lag = await waitFor(
      async () => {
        const l = await topology.lagByPartition();
        return l[2] > 1 && l.every((n, p) => p === 2 || n === 0) && topology.samplers.some((s) => /pausing consumption of this topic \/ partition/.test(s.collector.process.logTail(400))) && l;
      },
      { what: 'partition 2 to stall behind the poison message while the others drain', timeoutMs: 30_000, intervalMs: 250 },
    );
    console.log(`stalled: lag per partition ${lag.join(', ')} (poison at partition 2, offset ${poison.offset})`);

    // The way out without touching Kafka: skip what can never be decoded (a permanent error),
    // keep retrying what the pipeline refused. The committed offset is the poison's: it is
    // re-read, skipped, and everything behind it is decided.
    await restartAll({ MARK_AFTER_PIPELINE: 'true', MARK_ON_PERMANENT_ERROR: 'true' });
    await waitForDecisions(topology, 0);
    expect(await topology.lag(), 'messages the group has not consumed').toBe(0);
    const report = analyse(topology.capture.spans(), ids);
    console.log(formatReport('sent behind a poison message, decided after on_permanent_error: true', report, await samplerLines(topology)));
    for (const c of ['error', 'slow'] as const) expect(report.categories[c].kept, `${c} traces kept`).toBe(report.categories[c].sent);
  }, 180_000);
});
