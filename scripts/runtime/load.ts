// A bounded closed-loop load on payments (POST /payments, no downstream hop), on loopback: the
// benchmarks' load (services, profiling) and the profiling test's hot-path driver.
import { Agent, request } from 'node:http';

export interface LoadFigures {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

const BODY = JSON.stringify({ orderId: 'bench', amountCents: 2500 });

/**
 * Closed loop: `concurrency` clients, each sending its next request when the previous is
 * answered, for `seconds` at most (or until `until()` says stop, checked between requests).
 */
export async function loadPayments(port: number, seconds: number, concurrency: number, until: () => boolean = () => false): Promise<LoadFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/payments',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), 'x-lab-fault': 'none' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 201) latencies.push(performance.now() - t0);
            else errors += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(BODY);
    });
  const client = async () => {
    while (performance.now() < end && !until()) await one();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.floor((latencies.length - 1) * p)] ?? NaN) * 10) / 10;
  return { requests: latencies.length, perSecond: Math.round(latencies.length / elapsed), p50: pct(0.5), p99: pct(0.99), errors };
}
