// One call per test file: every component started in the file is stopped after it, and when a
// test fails the tail of every component's log is printed, so the failure explains itself.
import { afterAll, afterEach } from 'vitest';
import { stopAll, runningProcesses } from '../../scripts/runtime/process.js';

export function useLab(): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const p of runningProcesses()) {
      console.error(`\n--- ${p.name}: last lines of ${p.logFile} ---\n${p.logTail(40)}`);
    }
  });
  afterAll(stopAll, 30_000);
}
