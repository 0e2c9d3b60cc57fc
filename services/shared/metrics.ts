// The lab's metrics, recorded TWICE on purpose: once with prom-client (scraped from /metrics)
// and once with the OpenTelemetry API (pushed over OTLP), from the same events, so Lab 1 can
// compare a scrape with an OTLP push number for number. Naming (see services/README.md):
//
//   OTel instrument (OTLP)                        prom-client (/metrics)
//   http.server.request.duration   s  histogram   http_server_request_duration_seconds
//     (recorded by @opentelemetry/instrumentation-http, not here)
//   lab.http.server.requests       {request}      lab_http_server_requests_total
//   lab.http.server.active_requests {request}     lab_http_server_active_requests
//   lab.orders.published           {order}        lab_orders_published_total
//   lab.orders.fulfilled           {order}        lab_orders_fulfilled_total
//
// The right-hand names are what Prometheus makes of the left-hand ones when it ingests OTLP
// (dots to underscores, unit suffix, _total on counters), and the attributes are the same
// semantic-convention keys (http.request.method -> http_request_method), so a query written
// for one side works for the other.
//
// Lab 6's knob, LAB_METRICS_CUSTOMER_LABEL=true: the request counter (both sides) also carries
// the order's customer (lab.customer / lab_customer, from the JSON body: gateway and orders),
// an unbounded label that multiplies the series by the number of distinct customers. Off by
// default; docs/cardinality.md measures what it costs and how the collector takes it off again.
import { metrics } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { flag } from './config.js';

/** The bucket boundaries @opentelemetry/instrumentation-http gives http.server.request.duration (seconds). */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const HTTP_LABELS = ['http_request_method', 'http_route', 'http_response_status_code'] as const;

/** The cardinality knob (read once, at start): label every request count with its customer. */
export const CUSTOMER_LABEL = flag(process.env, 'LAB_METRICS_CUSTOMER_LABEL', false);

export const registry = new Registry();

const prom = {
  duration: new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: HTTP_LABELS,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  }),
  requests: new Counter({
    name: 'lab_http_server_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: CUSTOMER_LABEL ? [...HTTP_LABELS, 'lab_customer'] : HTTP_LABELS,
    registers: [registry],
  }),
  active: new Gauge({
    name: 'lab_http_server_active_requests',
    help: 'HTTP requests in flight.',
    labelNames: ['http_request_method'],
    registers: [registry],
  }),
};

// The global meter: a no-op until an SDK (our bootstrap or the zero-code register) is started.
const meter = metrics.getMeter('otel-lab-services');
const otel = {
  requests: meter.createCounter('lab.http.server.requests', {
    description: 'HTTP requests answered, by method, route and status code.',
    unit: '{request}',
  }),
  active: meter.createUpDownCounter('lab.http.server.active_requests', {
    description: 'HTTP requests in flight.',
    unit: '{request}',
  }),
};

/**
 * Express middleware (mount it first): counts every request on both sides when its response
 * is finished, as the OTel HTTP instrumentation does, /metrics and /health included.
 */
export function httpMetrics() {
  // A named function: express's instrumentation names the middleware span after it.
  return function recordHttpMetrics(req: Request, res: Response, next: NextFunction) {
    const method = req.method;
    const started = process.hrtime.bigint();
    prom.active.inc({ http_request_method: method });
    otel.active.add(1, { 'http.request.method': method });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      prom.active.dec({ http_request_method: method });
      otel.active.add(-1, { 'http.request.method': method });
      // req.route is set only when a route matched: unmatched requests (404) carry no route,
      // like http.route on the OTel side.
      const route: string | undefined = req.route?.path;
      const status = res.statusCode;
      const labels: Record<string, string | number> = { http_request_method: method, http_response_status_code: status };
      const attributes: Record<string, string | number> = { 'http.request.method': method, 'http.response.status_code': status };
      if (route) {
        labels.http_route = route;
        attributes['http.route'] = route;
      }
      prom.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      const customer = CUSTOMER_LABEL ? customerOf(req) : undefined;
      if (customer !== undefined) {
        labels.lab_customer = customer;
        attributes['lab.customer'] = customer;
      }
      prom.requests.inc(labels);
      otel.requests.add(1, attributes);
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}

/** The order's customer, when the request carried a JSON body naming one (POST /orders). */
function customerOf(req: Request): string | undefined {
  const customer = (req.body as { customer?: unknown } | undefined)?.customer;
  return typeof customer === 'string' ? customer : undefined;
}

const ORDER_COUNTERS = {
  published: 'Orders published to the Kafka topic.',
  fulfilled: 'Orders consumed from the Kafka topic and fulfilled.',
};

/**
 * The order counter of one service (orders: published, fulfillment: fulfilled), registered when
 * that service starts, so no other service exposes it. prom-client shows it at 0 from the
 * start; OTLP carries it from its first increment (the SDK exports only recorded series).
 */
export function orderCounter(which: keyof typeof ORDER_COUNTERS): () => void {
  const p = new Counter({ name: `lab_orders_${which}_total`, help: ORDER_COUNTERS[which], registers: [registry] });
  const o = meter.createCounter(`lab.orders.${which}`, { description: ORDER_COUNTERS[which], unit: '{order}' });
  return () => {
    p.inc();
    o.add(1);
  };
}

/** GET /metrics handler: the Prometheus text exposition of this process's registry. */
export async function metricsEndpoint(_req: Request, res: Response): Promise<void> {
  res.type(registry.contentType).send(await registry.metrics());
}
