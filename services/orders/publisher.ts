// Publishes accepted orders to the Kafka topic. The producer connects on first use and is
// replaced after a failure, so the service starts without Kafka and recovers by itself when the
// broker is back; a failed publish is reported to the caller (503), never dropped in silence.
import type { Kafka, Producer } from 'kafkajs';
import { log, logError } from '../shared/log.js';
import type { Order } from './order.js';

export class OrderPublisher {
  private producer?: Producer;
  private connected?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  private connect(): Promise<Producer> {
    this.connected ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: true });
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

  /** Resolves once the broker has the message (acks from all in-sync replicas). */
  async publish(order: Order): Promise<void> {
    try {
      const producer = await this.connect();
      await producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: order.orderId, value: JSON.stringify(order) }],
      });
    } catch (err) {
      logError(`publishing order ${order.orderId} failed`, err);
      await this.reset();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }
}
