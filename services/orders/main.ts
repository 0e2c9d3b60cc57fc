import * as config from '../shared/config.js';
import { main, serve } from '../shared/http.js';
import { kafkaClient, ordersTopic } from '../shared/kafka.js';
import { ordersApp, ordersConfig } from './orders.js';
import { OrderPublisher } from './publisher.js';

main('orders', async () => {
  const cfg = ordersConfig();
  const publisher = new OrderPublisher(kafkaClient('orders', cfg.brokers), ordersTopic(), cfg.publishTimeoutMs);
  await serve('orders', ordersApp(cfg, publisher), config.port(process.env), () => publisher.close());
});
