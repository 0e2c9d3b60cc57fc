// Fulfillment has no API of its own: its HTTP port serves /health (with the consumer's state)
// and /metrics, like every service.
import type { Express } from 'express';
import { createApp } from '../shared/http.js';
import type { OrderConsumer } from './consumer.js';

export function fulfillmentApp(consumer: OrderConsumer): Express {
  const app = createApp();
  // Always 200 while the process runs (liveness); `kafka` says whether orders are being consumed.
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', kafka: consumer.state, fulfilled: consumer.fulfilled });
  });
  return app;
}
