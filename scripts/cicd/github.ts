// Feeds the Collector's GitHub receiver (contrib githubreceiver) the webhook deliveries in
// github-events/: each one POSTed as GitHub sends it — the event in X-GitHub-Event, a delivery
// id, and the body signed with the webhook secret (X-Hub-Signature-256: HMAC-SHA256).
import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../runtime/components.js';

export const GITHUB_EVENTS_DIR = join(repoRoot, 'scripts/cicd/github-events');
/** The receiver's service_name in collector/cicd.yaml: the service of its traces. */
export const GITHUB_SERVICE_NAME = 'github-actions';

export interface Delivery {
  file: string;
  event: string;
  body: string;
}

export function readDeliveries(dir = GITHUB_EVENTS_DIR): Delivery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { event?: string; payload?: unknown };
      if (!doc.event || !doc.payload) throw new Error(`${join(dir, file)}: expected {"event": ..., "payload": ...}`);
      return { file, event: doc.event, body: JSON.stringify(doc.payload) };
    });
}

export const signature = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** POSTs every delivery to the receiver's webhook URL; rejects naming the file the receiver refused. */
export async function sendDeliveries(url: string, secret: string, deliveries = readDeliveries()): Promise<number[]> {
  const statuses: number[] = [];
  for (const d of deliveries) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/otel-lab',
        'x-github-event': d.event,
        'x-github-delivery': randomUUID(),
        'x-github-hook-id': '4242',
        'x-hub-signature-256': signature(secret, d.body),
      },
      body: d.body,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`the GitHub receiver at ${url} answered ${res.status} to ${d.file}: ${(await res.text()).trim()}`);
    statuses.push(res.status);
  }
  return statuses;
}

/** When the earliest delivered run started (ms since epoch): where a report over them begins. */
export function earliestRunMs(deliveries = readDeliveries()): number {
  const starts = deliveries.map((d) => JSON.parse(d.body)).map((p) => Date.parse(p.workflow_run?.run_started_at ?? p.workflow_job?.created_at));
  return Math.min(...starts.filter(Number.isFinite));
}
