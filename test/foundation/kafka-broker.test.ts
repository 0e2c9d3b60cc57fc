// Foundation: a real Kafka broker (KRaft, Maven Central jars) that clients can use at once:
// produce with a trace header, consume in a group, and resume from committed offsets after a
// broker restart.
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startKafka, waitFor, type Kafka } from '../../scripts/runtime/index.js';
import { useLab } from '../support/lab.js';

describe('the native Kafka broker', () => {
  useLab();
  let kafka: Kafka;
  let client: KafkaClient;

  beforeAll(async () => {
    kafka = await startKafka();
    client = new KafkaClient({ clientId: 'foundation-test', brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
    await kafka.createTopics([{ topic: 'hello', numPartitions: 2 }, { topic: 'restart', numPartitions: 2 }]);
  });

  async function produce(topic: string, value: string, headers?: Record<string, string>) {
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: value, value, headers }] });
    await producer.disconnect();
  }

  async function consumeAll(topic: string, groupId: string, want: number) {
    const got: { value: string; traceparent?: string }[] = [];
    const consumer = client.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({ value: message.value!.toString(), traceparent: message.headers?.traceparent?.toString() });
      },
    });
    try {
      await waitFor(() => got.length >= want, { what: `${want} messages in group ${groupId}`, timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    return got;
  }

  it('carries a message and its traceparent header from producer to a consumer group', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await produce('hello', 'first', { traceparent });
    const got = await consumeAll('hello', 'group-a', 1);
    expect(got).toEqual([{ value: 'first', traceparent }]);
  });

  it('keeps messages and committed offsets across a broker restart', async () => {
    // Stands alone: its own topic and group, committed here before the restart.
    await produce('restart', 'before restart');
    expect((await consumeAll('restart', 'group-r', 1)).map((m) => m.value)).toEqual(['before restart']);
    await kafka.restart();
    await produce('restart', 'after restart');
    // group-r committed 'before restart' before the restart: it resumes with only the new message.
    const got = await consumeAll('restart', 'group-r', 1);
    expect(got.map((m) => m.value)).toEqual(['after restart']);
  });
});
