// Foundation: when something is wrong, the harness says what, quickly. A broken collector
// config fails with the collector's own message (not a readiness timeout); a component that
// dies during a test is named, with the tail of its log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDir, startCapture, startCollector, waitFor } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';

describe('harness failure reporting', () => {
  useLab();

  it('rejects a config naming an undefined exporter with the collector\'s own message', async () => {
    const config = join(runDir('bad-config'), 'broken.yaml');
    writeFileSync(
      config,
      [
        'extensions: { health_check: { endpoint: "${env:HEALTH_LISTEN:-0.0.0.0:13133}" } }',
        'receivers: { otlp: { protocols: { http: { endpoint: "${env:OTLP_HTTP_LISTEN:-0.0.0.0:4318}" } } } }',
        'exporters: { debug: {} }',
        'service:',
        '  extensions: [health_check]',
        '  pipelines: { traces: { receivers: [otlp], exporters: [debugg] } }',
      ].join('\n'),
    );
    await expect(startCollector({ config })).rejects.toThrow(/broken\.yaml is invalid:[\s\S]*debugg/);
  });

  it('names a component that died mid-test and shows its last log lines', async () => {
    const capture = await startCapture('doomed-capture');
    process.kill(-capture.process.pid, 'SIGKILL');
    await expect(waitFor(() => false, { what: 'something that never happens', timeoutMs: 10_000 })).rejects.toThrow(
      /collector doomed-capture exited unexpectedly \(code null, signal SIGKILL\); last lines of .*collector\.log:\n.*Everything is ready/s,
    );
  });
});
