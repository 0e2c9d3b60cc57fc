// What every service's HTTP side shares: the express app with /metrics and the metrics
// middleware, JSON bodies, JSON error answers recorded on the server span, the W3C
// traceresponse header, and a graceful stop on SIGTERM.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { log, logError, setLogName } from './log.js';
import { httpMetrics, metricsEndpoint } from './metrics.js';

/** An error with the HTTP answer it deserves: `code` is stable for clients and goes on the span as lab.error.code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

// The HTTP instrumentation runs the server's 'request' listener inside the SERVER span's
// context; express's own instrumentation then makes each middleware span the active one.
// So the server span is captured here, at the very start, for the handlers that need it.
const serverSpans = new WeakMap<IncomingMessage, Span>();

export function serverSpanOf(req: Request): Span | undefined {
  return serverSpans.get(req);
}

export function createApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics());
  app.get('/metrics', metricsEndpoint);
  return app;
}

/** Route-level JSON body parsing: the body must be a JSON object, sent as application/json. */
export function jsonBody(): RequestHandler[] {
  return [
    express.json({ limit: '16kb' }),
    function requireJsonObject(req: Request, _res: Response, next: NextFunction) {
      if (!req.is('application/json')) {
        return next(new HttpError(400, 'invalid_json', 'expected a JSON object body with content-type: application/json'));
      }
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
        return next(new HttpError(400, 'invalid_json', 'expected a JSON object body'));
      }
      next();
    },
  ];
}

/** The W3C Trace Context `traceresponse` header: tells the caller the trace id and whether it was sampled. */
export function traceResponse() {
  return function traceResponseHeader(req: Request, res: Response, next: NextFunction) {
    const ctx = serverSpanOf(req)?.spanContext();
    if (ctx && trace.isSpanContextValid(ctx)) {
      const flags = (ctx.traceFlags & 0xff).toString(16).padStart(2, '0');
      res.setHeader('traceresponse', `00-${ctx.traceId}-${ctx.spanId}-${flags}`);
    }
    next();
  };
}

function asHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  // body-parser's errors: malformed JSON, too large, bad charset.
  if (e?.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', `body is not valid JSON: ${e.message}`);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, e.type ?? 'bad_request', e.message ?? 'bad request');
  }
  return new HttpError(500, 'internal_error', 'internal error');
}

/**
 * The last middleware: every failure becomes `{ error: { code, message }, traceId }`, and the
 * server span records it: lab.error.code and an exception event with the message (the HTTP
 * instrumentation itself sets error.type to the status code on 5xx). HTTP semantic conventions
 * leave a server span's status UNSET for 4xx (the client's mistake) and ERROR for 5xx.
 */
export function errorHandler() {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const httpError = asHttpError(err);
    if (httpError.status >= 500) logError(`${req.method} ${req.originalUrl} failed (${httpError.code})`, err);
    const span = serverSpanOf(req);
    span?.setAttribute('lab.error.code', httpError.code);
    span?.recordException({ name: httpError.code, message: httpError.message });
    if (httpError.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR, message: httpError.message });
    if (res.headersSent) return res.end();
    const body: Record<string, unknown> = { error: { code: httpError.code, message: httpError.message } };
    if (httpError.details !== undefined) (body.error as Record<string, unknown>).details = httpError.details;
    const traceId = span?.spanContext().traceId;
    if (traceId) body.traceId = traceId;
    res.status(httpError.status).json(body);
  };
}

export function notFound() {
  return (req: Request, _res: Response, next: NextFunction) =>
    next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
}

export interface RunningService {
  server: Server;
  port: number;
}

type Flushable = { forceFlush?: () => Promise<void>; getDelegate?: () => Flushable };

/**
 * Pushes out pending spans and metrics through the global providers, whoever installed them
 * (our bootstrap or the zero-code register: the app cannot reach that SDK object, only the API).
 */
export async function flushTelemetry(timeoutMs = 3_000): Promise<void> {
  const tracer = trace.getTracerProvider() as Flushable;
  const providers = [tracer.getDelegate?.() ?? tracer, metrics.getMeterProvider() as Flushable];
  const flushes = providers.map((p) => p.forceFlush?.().catch((err) => logError('telemetry flush failed', err)));
  await Promise.race([Promise.all(flushes), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

/**
 * Starts the HTTP server and installs the graceful stop: on SIGTERM/SIGINT stop accepting,
 * finish in-flight requests, run `cleanup` (Kafka clients), flush telemetry, exit.
 */
export async function serve(
  name: string,
  app: Express,
  port: number,
  cleanup: () => Promise<void> = async () => {},
): Promise<RunningService> {
  setLogName(name);
  app.use(notFound());
  app.use(errorHandler());
  const server = createServer((req, res) => {
    const span = trace.getActiveSpan();
    if (span) serverSpans.set(req, span);
    app(req, res);
  });
  // Keep-alive connections from the upstream service would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  log(`listening on port ${actualPort}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (finishing in-flight requests)`);
    // Fallback only: a stuck client must not keep the container from stopping.
    setTimeout(() => {
      logError('did not stop within 7 s, exiting anyway');
      process.exit(1);
    }, 7_000).unref();
    // Stop accepting; idle keep-alive connections go now, busy ones after their answer.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
    try {
      await cleanup();
    } catch (err) {
      logError('cleanup failed', err);
    }
    server.closeAllConnections();
    await flushTelemetry();
    log('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return { server, port: actualPort };
}

/** Entry-point wrapper: a configuration or start-up error ends the process with one clear line. */
export function main(name: string, start: () => Promise<unknown>): void {
  setLogName(name);
  start().catch((err) => {
    logError('failed to start', err);
    process.exitCode = 1;
    // Nothing else is running yet: ending now is safe, and flushes what telemetry there is.
    setImmediate(() => process.exit(1));
  });
}
