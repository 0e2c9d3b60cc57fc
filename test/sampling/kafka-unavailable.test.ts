// Lab 2, fault: Kafka is not there when the pipeline starts. The LB tier (lb-kafka.yaml) must
// start anyway, accept the services' spans, say that it cannot reach Kafka, hold the spans in
// its sending queue and retry; once Kafka is up, nothing the queue held is missing.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { startSamplingLab, type SamplingLab } from '../../scripts/sampling/lab.js';
import { requireSum, scrape, sumOf } from '../../scripts/runtime/prom-text.js';
import { analyse, formatReport, samplerLines, waitForDecisions, type TraceIds } from '../../scripts/sampling/report.js';

describe('Kafka unavailable when the LB tier starts', () => {
  useLab();
  let lab: SamplingLab;
  let ids: TraceIds;

  /**
   * A series summed over the LB instances; each must expose it. Failure counters appear only with
   * their first increment: `absentIsZero` reads those as 0, once the instance's exporter queue
   * gauge shows the exporter is there (so a renamed counter cannot pass as "no failures").
   */
  const lbSeries = async (name: string, { absentIsZero = false } = {}) => {
    let sum = 0;
    for (const lb of lab.topology.lbs) {
      const samples = await scrape(lb.telemetryUrl);
      const where = `${lb.name}'s telemetry (${lb.telemetryUrl})`;
      requireSum(samples, 'otelcol_exporter_queue_size', {}, where);
      sum += absentIsZero ? (sumOf(samples, name) ?? 0) : requireSum(samples, name, {}, where);
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
    expect(await lab.topology.spansAccepted()).toBeGreaterThan(0);
    // Held in the exporters' queues, not dropped: queue non-empty, nothing refused or failed.
    await waitFor(async () => (await lbSeries('otelcol_exporter_queue_size')) > 0, { what: 'the LB exporters to queue batches' });
    expect(await lbSeries('otelcol_exporter_enqueue_failed_spans_total', { absentIsZero: true })).toBe(0);
    expect(await lbSeries('otelcol_exporter_send_failed_spans_total', { absentIsZero: true })).toBe(0);
    await waitFor(() => lab.topology.lbs.some((lb) => /unable to open connection to broker|Exporting failed/.test(lb.process.logTail(200))), {
      what: 'an LB to log that it cannot reach Kafka',
    });
  });

  it('once Kafka is up, every error and slow trace sent meanwhile is kept, complete', async () => {
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
      expect(report.categories[c].incomplete, `${c} traces`).toEqual({});
      expect(report.categories[c].complete).toBe(report.categories[c].sent);
    }
    expect(await lbSeries('otelcol_exporter_send_failed_spans_total', { absentIsZero: true })).toBe(0);
  }, 180_000);
});
