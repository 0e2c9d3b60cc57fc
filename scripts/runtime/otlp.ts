// Flattens OTLP JSON (as the collector's file exporter writes it) into plain records that
// assertions can read: one record per span, one per metric data point.

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
};
type KeyValue = { key: string; value?: AnyValue };
type Attributes = Record<string, unknown>;

export function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return v.bytesValue;
}

export function attributes(kvs: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;
const TEMPORALITIES = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'] as const;

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: (typeof SPAN_KINDS)[number];
  status: (typeof STATUS_CODES)[number];
  statusMessage: string;
  durationMs: number;
  /** Start, in milliseconds since the epoch (µs precision): where a waterfall places the span. */
  startMs: number;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version?: string };
  /** resource service.name, the field most assertions start from */
  service: string;
  events: { name: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string }[];
}

export interface MetricPoint {
  name: string;
  unit: string;
  description: string;
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  monotonic?: boolean;
  temporality?: (typeof TEMPORALITIES)[number];
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version?: string };
  service: string;
  timeUnixNano: string;
  startTimeUnixNano?: string;
  /** sum and gauge */
  value?: number;
  /** histogram */
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

// The file exporter writes ids as hex already; OTLP/JSON over HTTP can carry base64. Accept both.
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]*$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

export function spansOf(request: any): Span[] {
  const out: Span[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version };
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: hexId(s.parentSpanId),
          name: s.name,
          kind: SPAN_KINDS[s.kind ?? 0],
          status: STATUS_CODES[s.status?.code ?? 0],
          statusMessage: s.status?.message ?? '',
          durationMs: Number(BigInt(s.endTimeUnixNano ?? 0) - BigInt(s.startTimeUnixNano ?? 0)) / 1e6,
          startMs: Number(BigInt(s.startTimeUnixNano ?? 0) / 1000n) / 1000,
          attributes: attributes(s.attributes),
          resource,
          scope,
          service: String(resource['service.name'] ?? ''),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attributes(e.attributes) })),
          links: (s.links ?? []).map((l: any) => ({ traceId: hexId(l.traceId), spanId: hexId(l.spanId) })),
        });
      }
    }
  }
  return out;
}

export function metricPointsOf(request: any): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const rm of request.resourceMetrics ?? []) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = { name: sm.scope?.name ?? '', version: sm.scope?.version };
      for (const m of sm.metrics ?? []) {
        const base = {
          name: m.name,
          unit: m.unit ?? '',
          description: m.description ?? '',
          resource,
          scope,
          service: String(resource['service.name'] ?? ''),
        };
        const type = (['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const).find((t) => m[t]);
        if (!type) continue;
        const data = m[type];
        for (const p of data.dataPoints ?? []) {
          const point: MetricPoint = {
            ...base,
            type,
            attributes: attributes(p.attributes),
            timeUnixNano: p.timeUnixNano,
            startTimeUnixNano: p.startTimeUnixNano,
          };
          if (type === 'sum') point.monotonic = Boolean(data.isMonotonic);
          if (data.aggregationTemporality !== undefined) point.temporality = TEMPORALITIES[data.aggregationTemporality];
          if (type === 'sum' || type === 'gauge') point.value = p.asDouble ?? Number(p.asInt ?? 0);
          if (type === 'histogram') {
            point.count = Number(p.count ?? 0);
            point.sum = p.sum;
            point.bucketCounts = (p.bucketCounts ?? []).map(Number);
            point.explicitBounds = p.explicitBounds ?? [];
          }
          out.push(point);
        }
      }
    }
  }
  return out;
}
