// Lab 2, fault: Kafka is not there when the pipeline starts. The LB tier (lb-kafka.yaml) must
// start anyway, accept the services' spans, say that it cannot reach Kafka, hold the spans in
// its sending queue and retry; once Kafka is up, nothing the queue held is missing.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startSamplingLab, type SamplingLab } from '../../scripts/sampling/lab.js';
import { requireSum, scrape, sumOf } from '../../scripts/runtime/prom-text.js';
import { spanCount } from '../../scripts/runtime/orders.js';
import { analyse, formatReport, samplerLines, waitForDecisions, type TraceIds } from '../../scripts/sampling/report.js';

// lb-kafka.yaml's trace exporter (the LB's metrics exporter has a queue of its own).
const KAFKA_EXPORTER: Record<string, string> = { exporter: 'kafka' };
const RECEIVER = { receiver: 'otlp' };

// Each test stands alone on the start-up's state: the first looks while Kafka is still down
// (beforeAll stopped it), the second brings it back.
describe('Kafka unavailable when the LB tier starts', () => {
  useLab();
  let lab: SamplingLab;
  let ids: TraceIds;

  /**
   * A series of the LB tier's Kafka exporter (or its receiver, with `labels`), summed over the LB
   * instances. Series that exist from the start (queue gauges, the receiver's counters) or once an
   * export has finished (sent and send-failed, recorded together) must be there: requireSum fails
   * on a renamed one. enqueue_failed is recorded only on a failure, so only it may be absent
   * (read as 0); that reading cannot tell a rename from no failures, which is why the receiver's
   * refused counter, always there, carries the same fact (a full queue refuses the services).
   */
  const lbSeries = async (name: string, { labels = KAFKA_EXPORTER, absentIsZero = false }: { labels?: Record<string, string>; absentIsZero?: boolean } = {}) => {
    let sum = 0;
    for (const lb of lab.topology.lbs) {
      const samples = await scrape(lb.telemetryUrl);
      const where = `${lb.name}'s telemetry (${lb.telemetryUrl})`;
      sum += absentIsZero ? (sumOf(samples, name, labels) ?? 0) : requireSum(samples, name, labels, where);
    }
    return sum;
  };

  beforeAll(async () => {
    // The spans get their own broker, stopped before the LB and sampler tiers start; the shop's
    // own Kafka (orders topic) stays up, so the traffic itself is unaffected.
    lab = await startSamplingLab({ kind: 'kafka', ownSpansBroker: true, kafkaDownAtStart: true });
    ids = await lab.traffic(60, { mix: { ok: 50, error: 30, slow: 20 } });
  });

  it('the LB tier starts and accepts spans while Kafka is down, and reports it cannot deliver them', async () => {
    const byLb = await lab.topology.spansAcceptedPerLb();
    lab.topology.lbs.forEach((lb, i) => expect(byLb[i], `spans accepted by ${lb.name}`).toBeGreaterThan(0));
    // Held in the exporters' queues, not dropped: queue non-empty, nothing refused or failed.
    await waitFor(async () => (await lbSeries('otelcol_exporter_queue_size')) > 0, { what: 'the LB exporters to queue batches' });
    expect(await lbSeries('otelcol_receiver_refused_spans_total', { labels: RECEIVER }), 'spans the LBs refused').toBe(0);
    expect(await lbSeries('otelcol_receiver_failed_spans_total', { labels: RECEIVER }), 'spans the LBs failed').toBe(0);
    expect(await lbSeries('otelcol_exporter_enqueue_failed_spans_total', { absentIsZero: true }), 'spans the queues could not take').toBe(0);
    // No export has finished yet: every batch is still being retried (sent/failed appear with the first outcome).
    expect(await lbSeries('otelcol_exporter_sent_spans_total', { absentIsZero: true }), 'spans sent to Kafka while it is down').toBe(0);
    await waitFor(() => lab.topology.lbs.some((lb) => /unable to open connection to broker|Exporting failed/.test(lb.process.logTail(200))), {
      what: 'an LB to log that it cannot reach Kafka',
    });
  });

  it('once Kafka is up, the LB tier delivers every span it took, and every error and slow trace sent meanwhile is kept, complete (every span)', async () => {
    await lab.topology.kafka!.restart();
    await lab.topology.waitForConsumers();
    await waitFor(async () => (await lbSeries('otelcol_exporter_queue_size')) === 0, {
      what: 'the LB queues to drain into Kafka',
      timeoutMs: 60_000,
    });
    await waitForDecisions(lab.topology, 60);
    const report = analyse(lab.topology.capture.spans(), ids);
    console.log(formatReport('sent while Kafka was down, decided after it came back', report, await samplerLines(lab.topology)));
    for (const c of ['error', 'slow'] as const) {
      expect(report.categories[c].sent, `${c} traces sent`).toBeGreaterThan(0);
      expect(report.categories[c].incomplete, `${c} traces (complete = exactly the ${spanCount(c)} spans per service)`).toEqual({});
      expect(report.categories[c].complete).toBe(report.categories[c].sent);
    }
    // What the queues held is all in Kafka: each span the LBs accepted was sent, none failed.
    expect(await lbSeries('otelcol_exporter_send_failed_spans_total'), 'spans the LBs failed to send').toBe(0);
    expect(await lbSeries('otelcol_exporter_sent_spans_total'), 'spans the LBs sent to Kafka').toBe(
      await lbSeries('otelcol_receiver_accepted_spans_total', { labels: RECEIVER }),
    );
  }, 180_000);
});
