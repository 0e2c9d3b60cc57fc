// The one OpenTelemetry bootstrap of the lab. Load it before the app
// (`node --import ./services/shared/telemetry.ts`, or tsx's --import): it configures the SDK
// only from the standard OTEL_* environment variables (service name, resource attributes,
// endpoint, protocol, sampler, metric temporality, export interval), so the same program runs
// unchanged under the native lab, docker compose and the Kubernetes operator.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';

export const sdk = new NodeSDK({
  instrumentations: [
    getNodeAutoInstrumentations({
      // File-system spans drown the request flow the workshop looks at.
      '@opentelemetry/instrumentation-fs': { enabled: false },
    }),
  ],
});
sdk.start();

// SIGTERM (docker stop, kubectl delete, Ctrl-C in the lab) flushes what is pending first.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    sdk
      .shutdown()
      .catch((err) => console.error('telemetry: flush on shutdown failed:', err))
      .finally(() => process.exit(0));
  });
}
