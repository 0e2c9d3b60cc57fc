// Runs test/foundation/hello-telemetry.ts (one span, one counter) against an OTLP/HTTP endpoint,
// as its own Node process, through the services' SDK bootstrap; resolves once it has flushed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../scripts/runtime/index.js';

const run = promisify(execFile);

export async function runHelloProgram(otlpHttpEndpoint: string, env: Record<string, string> = {}): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/foundation/hello-telemetry.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      OTEL_SERVICE_NAME: 'hello',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttpEndpoint,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      ...env,
    },
    timeout: 30_000,
  });
}
