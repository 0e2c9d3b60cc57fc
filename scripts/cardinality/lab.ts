// Lab 6 as one function that returns data (the CLI, main.ts, prints it; a console panel can
// call it too): the series explosion with and without the knob and the fix, exemplars from a
// metric to its trace, and RED metrics before and after tail sampling.
import { startKafka } from '../runtime/kafka.js';
import { stopAll } from '../runtime/process.js';
import { measureExplosion, type ExplosionPoint } from './explosion.js';
import { startExemplarLab, traceExemplars, type ExemplarReport } from './exemplars.js';
import { measureRed, startRedLab, type RedReport } from './red.js';
import { growthLaws, type GrowthLaw } from './report.js';

export const PARTS = ['explosion', 'exemplars', 'red'] as const;
export type Part = (typeof PARTS)[number];

export interface CardinalityOptions {
  parts?: readonly Part[];
  /** Customer counts the explosion is measured at. */
  users?: number[];
  /** Orders through the sampling topology for the RED comparison. */
  redOrders?: number;
  onProgress?: (message: string) => void;
}

export interface CardinalityReport {
  explosion?: { points: ExplosionPoint[]; laws: GrowthLaw[] };
  exemplars?: ExemplarReport;
  red?: RedReport;
}

/** Runs the parts asked for, one after the other, each on its own components; stops them all. */
export async function runCardinalityLab(opts: CardinalityOptions = {}): Promise<CardinalityReport> {
  const parts = opts.parts ?? PARTS;
  const say = opts.onProgress ?? (() => {});
  const report: CardinalityReport = {};
  try {
    if (parts.includes('explosion')) {
      const kafka = await startKafka('kafka-cardinality');
      const points = await measureExplosion({ users: opts.users ?? [200, 500, 1000], kafka, onProgress: say });
      report.explosion = { points, laws: growthLaws(points) };
      await kafka.stop();
    }
    if (parts.includes('exemplars')) {
      say('exemplars: starting Kafka, Jaeger, Prometheus (exemplar storage), the agent with spanmetrics, the services …');
      const kafka = await startKafka('kafka-exemplars');
      const lab = await startExemplarLab(kafka);
      say('exemplars: sending 20 orders (3 ok : 1 error) and reading the exemplars back …');
      report.exemplars = await traceExemplars(lab);
      await stopAll();
    }
    if (parts.includes('red')) {
      say('red: starting Lab 2\'s direct topology with spanmetrics in the LB tier and after the samplers …');
      const lab = await startRedLab();
      const orders = opts.redOrders ?? 200;
      say(`red: sending ${orders} orders (80 % ok, 10 % error, 10 % slow) …`);
      report.red = await measureRed(lab, orders);
    }
  } finally {
    await stopAll();
  }
  return report;
}
