// The lab's runtime: the real components started on loopback (free ports unless told), their
// logs and readiness. Used by `npm run lab*`, the benchmarks and the tests.
export { startCapture, type Capture } from './capture.js';
export { startCollector, validateCollectorConfig, type Collector } from './collector.js';
export { artifact, cacheDir, readEnvFile, repoRoot, runDir, versions } from './components.js';
export { startJaeger, type Jaeger } from './jaeger.js';
export { startKafka, type Kafka } from './kafka.js';
export type { MetricPoint, Span } from './otlp.js';
export { freePort } from './ports.js';
export { startPrometheus, type Prometheus } from './prometheus.js';
export { startProcess, stopAll, type ManagedProcess } from './process.js';
export { httpOk, waitFor } from './wait.js';
