// Calls to the next service over HTTP (fetch: the undici instrumentation makes the CLIENT span
// and injects traceparent). A failure becomes an HttpError saying which hop failed and how.
import { HttpError } from './http.js';

export interface DownstreamAnswer {
  status: number;
  body: unknown;
}

export async function postJson(
  service: string,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<DownstreamAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
    throw new HttpError(502, `${service}_unreachable`, `${service} (${url}) unreachable: ${why}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text, the caller reports it as is
  }
  return { status: res.status, body: parsed };
}

/** The `error.message` of a JSON error body, for relaying. */
export function errorMessage(body: unknown): string {
  const e = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof e?.message === 'string' ? e.message : typeof body === 'string' ? body.slice(0, 200) : 'no details';
}
