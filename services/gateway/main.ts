import { main, serve } from '../shared/http.js';
import { gatewayApp, gatewayConfig } from './gateway.js';
import * as config from '../shared/config.js';

main('gateway', async () => {
  const cfg = gatewayConfig();
  await serve('gateway', gatewayApp(cfg), config.port(process.env));
});
