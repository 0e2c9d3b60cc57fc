import * as config from '../shared/config.js';
import { main, serve } from '../shared/http.js';
import { paymentsApp, paymentsConfig } from './payments.js';

main('payments', async () => {
  await serve('payments', paymentsApp(paymentsConfig()), config.port(process.env));
});
