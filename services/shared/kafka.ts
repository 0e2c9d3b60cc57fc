// Kafka clients of the services: the topic name, and timeouts short enough that an order
// fails with a clear 503 in seconds when the broker is down, instead of hanging for a minute.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { log, logError } from './log.js';

/** The topic orders go to: `orders`, unless KAFKA_TOPIC says otherwise (two labs sharing one broker). */
export function ordersTopic(env = process.env): string {
  return env.KAFKA_TOPIC?.trim() || 'orders';
}

const LEVEL_NAMES: Record<number, string> = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' };

export function kafkaClient(clientId: string, brokers: string[]): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    // One line per kafkajs event, in the service's own log format.
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const line = `kafka ${LEVEL_NAMES[level] ?? level}: ${entry.message}${entry.error ? ` (${entry.error})` : ''}`;
        if (level <= logLevel.ERROR) logError(line);
        else log(line);
      },
  });
}

/** Creates the topic with the broker's default partitioning if it does not exist yet. */
export async function ensureTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (await admin.createTopics({ topics: [{ topic }], waitForLeaders: true })) log(`created topic ${topic}`);
  } finally {
    await admin.disconnect();
  }
}
