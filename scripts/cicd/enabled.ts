// Is CI/CD telemetry on? Only when an OTLP endpoint is given: the one switch of Lab 4's reporter
// and pipeline runner. A module of its own so the reporter can ask without loading the SDK.
export function telemetryEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
}
