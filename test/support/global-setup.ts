// Around the whole test run (vitest globalSetup): a Docker engine that the run itself started
// (the project's own dockerd, scripts/docker/engine.sh) is stopped at the end, so a test run
// leaves nothing running; an engine that was already up (yours, or a compose lab you started)
// is left alone.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/runtime/components.js';

const engineScript = join(repoRoot, 'scripts/docker/engine.sh');

function ownEngineRunning(): boolean {
  const status = spawnSync('bash', [engineScript, 'status'], { encoding: 'utf8' });
  return /project-owned dockerd \d+ at/.test(status.stderr);
}

export function setup() {
  const runningBefore = ownEngineRunning();
  return () => {
    if (runningBefore || !ownEngineRunning()) return;
    const stop = spawnSync('bash', [engineScript, 'stop'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
    if (stop.status !== 0) console.error('could not stop the Docker engine this test run started: bash scripts/docker/engine.sh stop');
  };
}
