// Lab 5, natively: the shop (Kafka, the four services with their SDK exporting to a capture),
// payments' CPU-heavy fraud check switched on, the profiles collector, and the eBPF profiler
// sampling the whole machine. Used by `npm run lab:profiling`.
import { startCapture, type Capture } from '../runtime/capture.js';
import { startKafka } from '../runtime/kafka.js';
import { startProfilesCollector, startProfiler, type Profiler, type ProfilesCollector } from '../runtime/profiler.js';
import { startServices, type Services } from '../runtime/services.js';

export interface ProfilingLabOptions {
  /** PAYMENTS_FRAUD_ROUNDS: the CPU cost of each payment (0: off). */
  fraudRounds: number;
  /** NODE_OPTIONS for every service (e.g. --perf-basic-prof --interpreted-frames-native-stack). */
  nodeOptions?: string;
  samplesPerSecond?: number;
}

export interface ProfilingLab {
  collector: ProfilesCollector;
  profiler: Profiler;
  services: Services;
  capture: Capture;
}

export async function startProfilingLab(opts: ProfilingLabOptions): Promise<ProfilingLab> {
  const [kafka, capture, collector] = await Promise.all([startKafka(), startCapture('profiling-capture'), startProfilesCollector()]);
  const services = await startServices({
    kafkaBootstrap: kafka.bootstrap,
    otlpEndpoint: capture.otlpHttp,
    name: 'profiling',
    env: {
      payments: { PAYMENTS_FRAUD_ROUNDS: String(opts.fraudRounds) },
      ...(opts.nodeOptions ? { all: { NODE_OPTIONS: opts.nodeOptions } } : {}),
    },
  });
  const profiler = await startProfiler({ collector: collector.otlpGrpc, samplesPerSecond: opts.samplesPerSecond });
  return { collector, profiler, services, capture };
}
