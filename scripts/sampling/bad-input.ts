// Bad input at a collector's front door: OTLP/HTTP requests that are malformed (truncated
// protobuf, invalid JSON, a wrong content type, empty and oversized bodies, trace ids of the
// wrong length) or well-formed but odd (an all-zero trace id, 10,000 attributes on one span).
// The agent, the LB and the sampler all take the services' spans through the same OTLP receiver;
// askDoor() sends each request to one of them and returns what it answered, for the report and
// the tests to compare with what docs/sampling.md says each door does.
import { randomBytes } from 'node:crypto';

/** One bad request: its body and content type, and the spans it carries if a door accepts it. */
export interface BadInput {
  name: string;
  contentType: string;
  body: Buffer;
  /** Spans in the request, counted by a receiver that accepts it (0 when it cannot be decoded). */
  spans: number;
}

export interface DoorAnswer {
  input: string;
  status: number;
  /** The answer's body, shortened (the collector's own message). */
  message: string;
}

// ---- a minimal protobuf encoder: just what an ExportTraceServiceRequest of one span needs ----
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const len = (field: number, bytes: Buffer) => Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
const fixed64 = (field: number, ns: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ns);
  return Buffer.concat([varint((field << 3) | 1), b]);
};

/** opentelemetry.proto ExportTraceServiceRequest with one resource, one scope, one span. */
export function oneSpanProto(traceId: Buffer, spanId: Buffer, name = 'bad-input'): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = Buffer.concat([len(1, traceId), len(2, spanId), len(5, Buffer.from(name)), fixed64(7, now), fixed64(8, now + 1_000_000n)]);
  const serviceName = len(1, Buffer.concat([len(1, Buffer.from('service.name')), len(2, len(1, Buffer.from('bad-input')))]));
  const resourceSpans = Buffer.concat([len(1, serviceName), len(2, len(2, span))]);
  return len(1, resourceSpans);
}

/** The same request as OTLP/JSON (ids in hex, as the OTLP/HTTP JSON mapping says). */
export function oneSpanJson(traceIdHex: string, spanIdHex: string, attributes: Record<string, string> = {}): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input' } }] },
          scopeSpans: [
            {
              scope: { name: 'bad-input' },
              spans: [
                {
                  traceId: traceIdHex,
                  spanId: spanIdHex,
                  name: 'bad-input',
                  kind: 1,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 1_000_000n),
                  attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** The collector's OTLP receiver takes bodies up to 20 MiB (confighttp's max_request_body_size default). */
export const MAX_BODY = 20 * 1024 * 1024;

/** Every bad request, freshly made (new ids each call, so accepted ones never collide). */
export function badInputs(): BadInput[] {
  const valid = oneSpanProto(randomBytes(16), randomBytes(8));
  const tenThousand: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) tenThousand[`lab.attr.${i}`] = `value-${i}`;
  return [
    { name: 'truncated protobuf', contentType: PROTO, body: valid.subarray(0, Math.floor(valid.length / 2)), spans: 0 },
    { name: 'invalid JSON', contentType: JSON_TYPE, body: Buffer.from('{"resourceSpans":[{"scopeSpans":['), spans: 0 },
    { name: 'wrong content type (text/plain)', contentType: 'text/plain', body: oneSpanJson(hex(16), hex(8)), spans: 0 },
    { name: 'empty body, protobuf', contentType: PROTO, body: Buffer.alloc(0), spans: 0 },
    { name: 'empty body, JSON', contentType: JSON_TYPE, body: Buffer.alloc(0), spans: 0 },
    { name: `oversized body (${MAX_BODY / 2 ** 20 + 1} MiB)`, contentType: PROTO, body: Buffer.alloc(MAX_BODY + 2 ** 20, 0x0a), spans: 0 },
    { name: 'trace id of 15 bytes, JSON', contentType: JSON_TYPE, body: oneSpanJson(hex(15), hex(8)), spans: 0 },
    { name: 'trace id of 17 bytes, protobuf', contentType: PROTO, body: oneSpanProto(randomBytes(17), randomBytes(8)), spans: 0 },
    { name: 'trace id all zeros', contentType: JSON_TYPE, body: oneSpanJson('0'.repeat(32), hex(8)), spans: 1 },
    { name: '10,000 attributes on one span', contentType: JSON_TYPE, body: oneSpanJson(hex(16), hex(8), tenThousand), spans: 1 },
  ];
}

/** POSTs one bad request to a door's OTLP/HTTP traces endpoint; what it answered. */
export async function askDoor(otlpHttp: string, input: BadInput): Promise<DoorAnswer> {
  try {
    const res = await fetch(`${otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': input.contentType },
      body: new Uint8Array(input.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    return { input: input.name, status: res.status, message: readable(text) };
  } catch (err) {
    // A door that resets the connection (or never answers) says so here, not with a status.
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { input: input.name, status: 0, message: `no answer: ${e.cause?.code ?? e.cause?.message ?? e.message}` };
  }
}

/** The error text of an answer: OTLP/HTTP errors are a google.rpc.Status, in JSON or protobuf (message = field 2). */
function readable(text: string): string {
  try {
    const j = JSON.parse(text);
    if (typeof j?.message === 'string') return j.message.slice(0, 160);
  } catch {
    /* not JSON */
  }
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f]+/g, ' ').trim().slice(0, 160);
}

/** Sends every bad request to every door, one after the other; the answers per door. */
export async function askEveryDoor(doors: Record<string, string>): Promise<Record<string, DoorAnswer[]>> {
  const out: Record<string, DoorAnswer[]> = {};
  for (const [door, url] of Object.entries(doors)) {
    out[door] = [];
    for (const input of badInputs()) out[door].push(await askDoor(url, input));
  }
  return out;
}

/** The answers as a table: one row per bad request, one column per door. */
export function formatDoorTable(answers: Record<string, DoorAnswer[]>): string {
  const doors = Object.keys(answers);
  const lines = [`| bad input | ${doors.join(' | ')} |`, `|---|${doors.map(() => '---').join('|')}|`];
  const inputs = answers[doors[0]].map((a) => a.input);
  for (const [i, input] of inputs.entries()) {
    lines.push(`| ${input} | ${doors.map((d) => `${answers[d][i].status} ${answers[d][i].message}`.trim()).join(' | ')} |`);
  }
  return lines.join('\n');
}
