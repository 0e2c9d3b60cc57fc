// Lab 6, the series explosion: a per-customer label on the services' request counter (the
// knob LAB_METRICS_CUSTOMER_LABEL=true) adds series in proportion to the distinct customers, as
// Prometheus's own TSDB status API counts them; the agent with collector/cardinality-fix.yaml
// takes the label off and the head stays as small as without the knob.
import { beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../support/lab.js';
import { startKafka } from '../../scripts/runtime/kafka.js';
import { measureExplosion, type Config, type ExplosionPoint } from '../../scripts/cardinality/explosion.js';
import { formatExplosionTable, formatGrowthLaws, growthLaws } from '../../scripts/cardinality/report.js';

describe('an unbounded label multiplies the series; the collector bounds them again', () => {
  useLab();
  const [few, many] = [40, 120];
  let points: ExplosionPoint[];
  const at = (config: Config, users: number) => points.find((p) => p.config === config && p.users === users)!;

  beforeAll(async () => {
    const kafka = await startKafka('kafka-cardinality');
    points = await measureExplosion({ users: [few, many], kafka, rate: 60 });
    console.log(`${formatExplosionTable(points)}\n${formatGrowthLaws(growthLaws(points))}`);
  });

  it('without the knob, more customers add no series', () => {
    expect(at('no-knob', many).headSeries).toBe(at('no-knob', few).headSeries);
    expect(at('no-knob', many).requestSeries).toBe(at('no-knob', few).requestSeries);
  });

  it('with the knob, the head series grow at least linearly: two per new customer (gateway and orders count each order)', () => {
    const added = many - few;
    const [a, b] = [at('knob', few), at('knob', many)];
    expect(b.headSeries - a.headSeries, 'head series added by the new customers').toBeGreaterThanOrEqual(added);
    // The request counter alone: one series per customer on the gateway and one on orders.
    expect(b.requestSeries - a.requestSeries, 'lab_http_server_requests_total series added').toBe(2 * added);
    // Against no knob at all: two series per customer, less the two per-route ones they replace.
    expect(b.headSeries, 'head series with the knob vs without').toBeGreaterThanOrEqual(at('no-knob', many).headSeries + 2 * (many - 1));
  });

  it('with the fix in the collector, the series stay flat, the request counter exactly as without the knob', () => {
    expect(at('knob+fix', many).headSeries, 'head series at the same customers as without the knob').toBe(at('no-knob', many).headSeries);
    expect(at('knob+fix', many).headSeries, `head series at ${many} customers vs ${few}`).toBe(at('knob+fix', few).headSeries);
    expect(at('knob+fix', many).requestSeries, 'lab_http_server_requests_total series').toBe(at('no-knob', many).requestSeries);
    expect(at('knob+fix', few).requestSeries).toBeGreaterThan(0);
  });
});
