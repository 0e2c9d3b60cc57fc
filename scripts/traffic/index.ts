// The traffic generator as a module: orders to the gateway with a known mix (CLI: main.ts).
export { categories, CATEGORIES, parseMix, type Category, type Mix } from './mix.js';
export { parseTraceResponse, runTraffic, type TrafficOptions, type TrafficResult } from './run.js';
