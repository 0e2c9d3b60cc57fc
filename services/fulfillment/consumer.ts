// Consumes the orders topic. eachMessage (not eachBatch) on purpose: with it the kafkajs
// instrumentation makes the "process orders" CONSUMER span a CHILD of the producer's span,
// read from the message headers, so the order's whole journey is one trace.
// The consumer keeps trying while Kafka is away: at start, and after a crash kafkajs does not
// recover from by itself.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { ensureTopic } from '../shared/kafka.js';
import { log, logError } from '../shared/log.js';
import { orderCounter } from '../shared/metrics.js';

export type ConsumerState = 'starting' | 'consuming' | 'reconnecting' | 'stopped';

export class OrderConsumer {
  state: ConsumerState = 'starting';
  fulfilled = 0;
  private consumer?: Consumer;
  private retryTimer?: NodeJS.Timeout;
  private readonly countFulfilled = orderCounter('fulfilled');

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly retryMs = 2_000,
  ) {}

  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.state === 'stopped') return;
    // A short session: after a broker restart the group waits for the old member's session to
    // expire before it takes the rejoined one (30 s with kafkajs' default).
    const consumer = this.kafka.consumer({ groupId: this.groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.state = 'consuming';
      log(`consuming topic ${this.topic} as group ${this.groupId}`);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logError(`consumer crashed (restart by kafkajs: ${payload.restart})`, payload.error);
      this.state = 'reconnecting';
      if (!payload.restart) this.retry(consumer);
    });
    try {
      await ensureTopic(this.kafka, this.topic);
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await consumer.run({ eachMessage: (payload) => this.fulfil(payload) });
    } catch (err) {
      logError(`cannot consume ${this.topic} yet, retrying in ${this.retryMs} ms`, err);
      this.state = 'reconnecting';
      this.retry(consumer);
    }
  }

  private retry(consumer: Consumer): void {
    if (this.state === 'stopped' || this.retryTimer) return;
    this.retryTimer = setTimeout(async () => {
      await consumer.disconnect().catch(() => {});
      this.retryTimer = undefined;
      void this.run();
    }, this.retryMs);
  }

  private async fulfil({ message, partition }: EachMessagePayload): Promise<void> {
    const span = trace.getActiveSpan(); // the instrumentation's "process orders" span
    let order: { orderId?: unknown; item?: unknown; quantity?: unknown };
    try {
      order = JSON.parse(message.value?.toString() ?? '');
      if (typeof order.orderId !== 'string') throw new Error('no orderId');
    } catch (err) {
      // A malformed message is reported and skipped: throwing would redeliver it forever.
      logError(`skipping malformed message at partition ${partition} offset ${message.offset}`, err);
      span?.recordException(err as Error);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: 'malformed order message' });
      return;
    }
    span?.setAttribute('lab.order.id', order.orderId as string);
    this.fulfilled += 1;
    this.countFulfilled();
    log(`fulfilled order ${order.orderId} (${order.quantity} x ${order.item})`);
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    await this.consumer?.disconnect();
  }
}
