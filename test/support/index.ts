// The native test harness: real components on free loopback ports. See README "Tests".
export { startCapture, type Capture } from './capture.js';
export { startCollector, validateCollectorConfig, type Collector } from './collector.js';
export { artifact, readEnvFile, repoRoot, runDir, versions } from './components.js';
export { startJaeger, type Jaeger } from './jaeger.js';
export { startKafka, type Kafka } from './kafka.js';
export type { MetricPoint, Span } from './otlp.js';
export { useLab } from './lab.js';
export { freePort } from './ports.js';
export { startPrometheus, type Prometheus } from './prometheus.js';
export { startProcess, stopAll, type ManagedProcess } from './process.js';
export { httpOk, waitFor } from './wait.js';
