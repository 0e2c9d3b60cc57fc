import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each file starts real processes (collectors, Kafka, Prometheus): forks isolate them,
    // and two at a time is what 2 cores carry without starving the components' start-up.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // scripts/cicd/reporter.ts: the run as a CI/CD trace, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (Lab 4).
    reporters: ['default', './test/support/summary-reporter.ts', './scripts/cicd/reporter.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      // Every scenario on native processes: the lab's default runtime.
      { extends: true, test: { name: 'native', include: ['test/**/*.test.ts'] } },
      // LAB_RUNTIME=docker: the same scenario, the same configs, in the lab's images through
      // testcontainers. The Kafka sampling topology is the one that exercises every component.
      {
        extends: true,
        test: { name: 'docker-runtime', include: ['test/sampling/tail-kafka.test.ts'], env: { LAB_RUNTIME: 'docker' } },
      },
    ],
  },
});
