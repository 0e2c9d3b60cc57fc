// A real Kafka broker (KRaft, single node) from the Maven Central jars, on free loopback ports.
// Ready means: metadata answers AND the group coordinator is up (before that, consumers log
// "group coordinator is not available" and tests would race the broker's warm-up).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { artifact, repoRoot, runDir } from './components.js';
import { dockerRuntime, image, prepareDocker, startContainer } from './docker.js';
import { freePort } from './ports.js';
import { startProcess, watch, type ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

export interface Kafka {
  /** host:port for clients */
  bootstrap: string;
  process: ManagedProcess;
  createTopics(topics: { topic: string; numPartitions?: number }[]): Promise<void>;
  stop(): Promise<void>;
  /** kill -9 of the broker: no clean shutdown, its log recovered on the next start. */
  kill(): Promise<void>;
  /** Starts the same broker again (same data and ports) after stop() or kill(). */
  restart(): Promise<void>;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function startKafka(name = 'kafka', opts: { port?: number } = {}): Promise<Kafka> {
  if (dockerRuntime()) return startKafkaInDocker(name, opts);
  const libs = artifact('kafka');
  const classpath = join(libs, '*');
  const dir = runDir(name);
  const brokerPort = opts.port ?? (await freePort());
  const controllerPort = await freePort();
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    readFileSync(join(repoRoot, 'config/kafka/server.properties'), 'utf8') +
      [
        '',
        '# added by the native harness',
        `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `log.dirs=${join(dir, 'data')}`,
        '',
      ].join('\n'),
  );
  const javaOpts = [
    '-Xms128m',
    '-Xmx512m',
    // Start-up over peak throughput (a lab broker carries hundreds of messages a second):
    // C1-only JIT and the serial GC took the broker's start from ~8.9 s to ~4.9 s (median of
    // 4 interleaved rounds each, 2 cores).
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Dlog4j2.configurationFile=${join(repoRoot, 'config/kafka/log4j2.properties')}`,
  ];
  try {
    execFileSync('java', [...javaOpts, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props], {
      stdio: 'pipe',
    });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`formatting Kafka storage failed: ${e.stderr?.toString() || e.message}`);
  }

  const bootstrap = `127.0.0.1:${brokerPort}`;
  const launch = () => {
    const p = startProcess({
      name,
      command: 'java',
      args: [...javaOpts, '-cp', classpath, 'kafka.Kafka', props],
      logFile: join(dir, 'kafka.log'),
    });
    watch(p);
    return p;
  };
  return readyKafka({ bootstrap, launch, what: `Kafka ${name}`, timeoutMs: 60_000 });
}

/**
 * A broker that `launch` starts (natively or in a container), once it is ready: metadata
 * answers and the group coordinator is up. restart() launches it again on the same data.
 */
export async function readyKafka(opts: {
  bootstrap: string;
  launch: () => ManagedProcess | Promise<ManagedProcess>;
  what: string;
  timeoutMs: number;
}): Promise<Kafka> {
  const client = new KafkaClient({ clientId: 'otel-lab-harness', brokers: [opts.bootstrap], logLevel: logLevel.NOTHING });
  const ready = async (p: ManagedProcess) => {
    const admin = client.admin();
    try {
      await waitFor(
        async () => {
          await admin.connect();
          await admin.describeCluster();
          // FindCoordinator also creates __consumer_offsets; it fails until that is led.
          const { groups } = await admin.describeGroups(['otel-lab-readiness']);
          return groups.length === 1;
        },
        { what: `${opts.what} (metadata and group coordinator; log: ${p.logFile})`, timeoutMs: opts.timeoutMs, intervalMs: 250 },
      );
    } finally {
      await admin.disconnect();
    }
  };

  const kafka: Kafka = {
    bootstrap: opts.bootstrap,
    process: await opts.launch(),
    async createTopics(topics) {
      const admin = client.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics, waitForLeaders: true });
      } finally {
        await admin.disconnect();
      }
    },
    stop: () => kafka.process.stop(),
    kill: () => kafka.process.kill(),
    async restart() {
      await kafka.process.stop();
      kafka.process = await opts.launch();
      await ready(kafka.process);
    },
  };
  await ready(kafka.process);
  return kafka;
}

/**
 * startKafka, in a container of the Kafka image: config/kafka/server.properties as the
 * official image's file input, the node's addresses through the KAFKA_* variables, and the
 * data in this run's directory, so restart() brings back the same broker.
 */
export async function startKafkaInDocker(name = 'kafka', opts: { port?: number } = {}): Promise<Kafka> {
  await prepareDocker(); // first: it sets the image variables
  const dir = runDir(name);
  const data = join(dir, 'data');
  mkdirSync(data);
  chmodSync(data, 0o777); // the image's own user (apache/kafka: appuser) writes there
  const brokerPort = opts.port ?? (await freePort());
  const controllerPort = await freePort();
  const bootstrap = `127.0.0.1:${brokerPort}`;
  const env = {
    CLUSTER_ID: clusterId(),
    KAFKA_LISTENERS: `PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${bootstrap}`,
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controllerPort}`,
    KAFKA_LOG_DIRS: '/var/lib/kafka/data',
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
  };
  const launch = () =>
    startContainer({
      name: `${name} (docker)`,
      image: image('KAFKA_IMAGE'),
      command: [],
      env,
      logFile: join(dir, 'kafka.log'),
      mounts: [
        [join(repoRoot, 'config/kafka/server.properties'), '/mnt/shared/config/server.properties', 'ro'],
        [data, '/var/lib/kafka/data', 'rw'],
      ],
    });
  return readyKafka({ bootstrap, launch, what: `Kafka ${name} in docker`, timeoutMs: 90_000 });
}
