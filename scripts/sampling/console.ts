// What the workshop console reads from a running sampling topology (its Lab 2 tab): the LBs and
// samplers as components (health check, log) and the topology itself for the report.
import type { ConsoleContext } from '../console/context.js';
import type { SamplingLab } from './lab.js';
import type { TraceIds } from './report.js';

export function samplingConsoleContext(lab: SamplingLab, title: string, traceIds: () => TraceIds): ConsoleContext {
  const { topology } = lab;
  const collectors = () => [...topology.lbs, ...topology.samplers.map((s) => s.collector)];
  return {
    components: () =>
      collectors().map((c) => ({
        name: c.name,
        role: topology.lbs.includes(c) ? 'load-balancing tier' : 'tail sampler',
        address: c.otlpHttp || `health ${c.listen.HEALTH_LISTEN}`,
        health: `http://${c.listen.HEALTH_LISTEN}/`,
        log: c.process.logFile,
        telemetry: c.telemetryUrl,
      })),
    gatewayUrl: lab.services.gateway.url,
    sampling: { title, topology, traceIds },
  };
}
