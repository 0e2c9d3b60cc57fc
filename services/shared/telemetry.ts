// The one OpenTelemetry bootstrap of the lab. Load it before the app
// (`node --import tsx --import ./services/shared/telemetry.ts services/<name>/main.ts`): it
// configures the SDK only from the standard OTEL_* environment variables (service name,
// resource attributes, endpoint, protocol, sampler, metric temporality, export interval) and
// the auto-instrumentations' own OTEL_NODE_* variables (which instrumentations, which resource
// detectors) — exactly what the zero-code `@opentelemetry/auto-instrumentations-node/register`
// reads. So "SDK mode" and "zero-code mode" differ only in who starts the SDK; the lab's
// defaults for those variables live in services/telemetry.env, not here.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { getNodeAutoInstrumentations, getResourceDetectors } from '@opentelemetry/auto-instrumentations-node';

export const sdk = new NodeSDK({
  instrumentations: getNodeAutoInstrumentations(),
  resourceDetectors: getResourceDetectors(),
});
sdk.start();

let flushed: Promise<void> | undefined;
/** Flushes and stops the SDK once, however many times it is asked. */
export function shutdownTelemetry(): Promise<void> {
  flushed ??= sdk.shutdown().catch((err) => console.error('telemetry: flush on shutdown failed:', err));
  return flushed;
}

// A service stops its server and Kafka clients on SIGTERM and then simply ends: the SDK flushes
// here, when the event loop runs empty.
process.once('beforeExit', () => void shutdownTelemetry());

// A program with no SIGTERM handler of its own (docker stop, Ctrl-C) is flushed, then ended.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (process.listenerCount(signal) > 0) return; // the app stops itself; we flush at beforeExit
    void shutdownTelemetry().finally(() => process.exit(0));
  });
}
