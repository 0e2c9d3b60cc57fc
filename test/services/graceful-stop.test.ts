// Services, claim 7: SIGTERM (docker stop, kubectl delete) loses no telemetry. With export
// intervals far longer than the test, whatever reaches the collector was flushed by the stop —
// in both modes, since the services flush through the global providers, whoever installed them.
import { beforeAll, describe, expect, it } from 'vitest';
import { startCapture, startKafka, type Capture, type Kafka } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';
import { SERVICE_NAMES, startServices, type InstrumentationMode } from '../../scripts/runtime/services.js';
import { placeOrder, spansOfTrace, waitForOrderTrace } from '../../scripts/runtime/orders.js';

describe('graceful stop flushes pending telemetry', () => {
  useLab();
  let capture: Capture;
  let kafka: Kafka;

  beforeAll(async () => {
    [capture, kafka] = await Promise.all([startCapture(), startKafka()]);
  });

  for (const mode of ['sdk', 'zero-code'] as InstrumentationMode[]) {
    it(`${mode}: every span and the metrics still in the SDK at SIGTERM reach the collector, and every service exits 0`, async () => {
      const services = await startServices({
        otlpEndpoint: capture.otlpHttp,
        kafkaBootstrap: kafka.bootstrap,
        mode,
        name: `services-${mode}`,
        topic: `orders-${mode}`,
        env: {
          all: { OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_METRIC_EXPORT_INTERVAL: '600000', KAFKA_GROUP_ID: `fulfillment-${mode}` },
        },
      });
      const order = await placeOrder(services.gateway.url);
      expect(order.status).toBe(201);
      // The order is fully processed (fulfillment counted it) before the stop.
      const fulfilled = async () => (await fetch(`${services.fulfillment.url}/health`).then((r) => r.json()) as any).fulfilled;
      await expect.poll(fulfilled, { timeout: 20_000 }).toBe(1);
      expect(spansOfTrace(capture.spans(), order.traceId)).toEqual([]);

      await services.stop();

      for (const name of SERVICE_NAMES) expect(services[name].process.exit, name).toMatchObject({ code: 0 });
      // Polling only covers the capture's own file flush (100 ms): the services are gone.
      // Every span of the order, not just one a service: nothing the SDKs held was lost.
      const trace = await waitForOrderTrace(capture, order.traceId, 'ok');
      const ordersPid = trace.find((s) => s.service === 'orders')!.resource['process.pid'];
      await capture.waitForMetrics(
        (points) => points.find((p) => p.name === 'lab.orders.published' && p.resource['process.pid'] === ordersPid && p.value === 1),
        `lab.orders.published = 1 from the stopped orders process`,
      );
    }, 90_000);
  }
});
