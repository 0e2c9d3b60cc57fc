// The entry point of the shop: takes POST /orders from the outside, answers with the trace id
// (traceresponse header), and forwards the order to the orders service.
import type { Express } from 'express';
import * as config from '../shared/config.js';
import { postJson } from '../shared/downstream.js';
import { faultHeaders, requestedFault } from '../shared/fault.js';
import { createApp, jsonBody, traceResponse } from '../shared/http.js';

export interface GatewayConfig {
  ordersUrl: string;
  timeoutMs: number;
}

export function gatewayConfig(env = process.env): GatewayConfig {
  return {
    ordersUrl: config.url(env, 'ORDERS_URL', 'http://orders:8080'),
    timeoutMs: config.integer(env, 'DOWNSTREAM_TIMEOUT_MS', 10_000, { min: 1 }),
  };
}

export function gatewayApp(cfg: GatewayConfig): Express {
  const app = createApp();
  app.use(traceResponse());
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/orders', ...jsonBody(), async (req, res) => {
    const fault = requestedFault(req);
    // The order is validated by the orders service; its answer (201, 400, 502, 503) is relayed.
    const answer = await postJson('orders', `${cfg.ordersUrl}/orders`, req.body, faultHeaders(fault), cfg.timeoutMs);
    res.status(answer.status).json(answer.body);
  });
  return app;
}
