import * as config from '../shared/config.js';
import { main, serve } from '../shared/http.js';
import { kafkaClient, ordersTopic } from '../shared/kafka.js';
import { OrderConsumer } from './consumer.js';
import { fulfillmentApp } from './fulfillment.js';

main('fulfillment', async () => {
  const brokers = config.brokers(process.env, 'KAFKA_BROKERS');
  const groupId = config.optionalString(process.env, 'KAFKA_GROUP_ID', 'fulfillment');
  const consumer = new OrderConsumer(kafkaClient('fulfillment', brokers), ordersTopic(), groupId);
  await serve('fulfillment', fulfillmentApp(consumer), config.port(process.env), () => consumer.stop());
  consumer.start();
});
