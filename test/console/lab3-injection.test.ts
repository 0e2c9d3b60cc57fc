// The console's Lab 3 tab on what the real operator's webhook returned (a kube-apiserver and the
// operator on loopback, as `npm run lab:k8s -- --console` runs them): each service's Pod as a diff
// against its Deployment's pod template, where every added line is the operator's doing.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../scripts/k8s/control-plane.js';
import { injectedPods } from '../../scripts/k8s/injection.js';
import { runDir } from '../../scripts/runtime/components.js';
import { SERVICE_NAMES } from '../../scripts/runtime/services.js';
import { useLab } from '../support/lab.js';
import { useConsole, type Opened } from './browser.js';

useLab();

let opened: Opened;
let diffs: string[][] = [];

const ui = useConsole(async () => {
  const cp = await startControlPlane();
  const pods = await injectedPods(cp);
  await cp.stop();
  return { context: { components: () => [], k8s: { pods } }, path: '/#lab3' };
});
beforeAll(async () => {
  opened = ui.opened;
  await opened.page.locator('section[data-block="diff"]').first().waitFor({ timeout: 15_000 });
  diffs = await opened.page.locator('section[data-block="diff"] pre').evaluateAll((pres) => pres.map((p) => p.textContent!.split('\n').filter(Boolean)));
});

describe("the console's Lab 3 tab on the operator's injection", () => {
  it('shows one diff per service', async () => {
    expect(await opened.page.locator('section[data-block="diff"] h3').allTextContents()).toEqual(
      SERVICE_NAMES.map((s) => `${s}: the Pod the webhook returned, against the Deployment's pod template (+ injected)`),
    );
  });

  it('the added lines are the init container, its volume and mount, NODE_OPTIONS and the OTEL_* variables', () => {
    for (const [i, lines] of diffs.entries()) {
      const added = lines.filter((l) => l.startsWith('+')).join('\n');
      const name = SERVICE_NAMES[i];
      expect(added, name).toContain('name: opentelemetry-auto-instrumentation-nodejs');
      expect(added, name).toContain('mountPath: /otel-auto-instrumentation-nodejs');
      expect(added, name).toContain('name: NODE_OPTIONS');
      expect(added, name).toContain('--require /otel-auto-instrumentation-nodejs/autoinstrumentation.js');
      expect(added, name).toContain('name: OTEL_EXPORTER_OTLP_ENDPOINT');
      expect(added, name).toContain('name: OTEL_RESOURCE_ATTRIBUTES');
    }
  });

  it("leaves out what the API server adds to every pod, and removes nothing of the template", async () => {
    for (const [i, lines] of diffs.entries()) {
      const added = lines.filter((l) => l.startsWith('+')).join('\n');
      expect(added, SERVICE_NAMES[i]).not.toContain('kube-api-access');
      expect(added, SERVICE_NAMES[i]).not.toContain('dnsPolicy');
      expect(lines.filter((l) => l.startsWith('-')), SERVICE_NAMES[i]).toEqual([]);
    }
    expect(opened.errors).toEqual([]);
    const file = join(runDir('console-screenshots'), 'lab3-live.png');
    await opened.page.screenshot({ path: file });
    console.log(`screenshot: ${file}`);
  });
});
