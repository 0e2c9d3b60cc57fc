// Publishes accepted orders to the Kafka topic. The producer connects on first use and is
// replaced after a failure, so the service starts without Kafka and recovers by itself when the
// broker is back; a failed publish is reported to the caller (503), never dropped in silence.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { log, logError } from '../shared/log.js';
import type { Order } from './order.js';

export class OrderPublisher {
  private producer?: Producer;
  private connected?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly timeoutMs: number,
  ) {}

  private connect(): Promise<Producer> {
    this.connected ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
      this.producer = producer;
      await producer.connect();
      log('connected to Kafka');
      return producer;
    })();
    return this.connected;
  }

  private async reset(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    this.connected = undefined;
    await old?.disconnect().catch(() => {});
  }

  /**
   * Resolves once the broker has the message (acks from all in-sync replicas); rejects after
   * `timeoutMs` at the latest, so the caller answers well before its own caller gives up.
   */
  async publish(order: Order): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no acknowledgement from Kafka within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const send = (async () => {
        const producer = await this.connect();
        await producer.send({
          topic: this.topic,
          acks: -1,
          messages: [{ key: order.orderId, value: JSON.stringify(order) }],
        });
      })();
      send.catch(() => {}); // after a timeout its late failure is already reported
      await Promise.race([send, timeout]);
    } catch (err) {
      logError(`publishing order ${order.orderId} failed`, err);
      await this.reset();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
