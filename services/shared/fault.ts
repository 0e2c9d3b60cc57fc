// The per-request fault override: `x-lab-fault: error|slow|none`, sent by a test or the traffic
// generator on POST /orders and carried gateway -> orders -> payments, so the caller knows for
// certain which traces must come out as errors or slow (ground truth for the sampling lab).
import type { Request } from 'express';
import { HttpError } from './http.js';

export const FAULT_HEADER = 'x-lab-fault';
export const FAULTS = ['error', 'slow', 'none'] as const;
export type Fault = (typeof FAULTS)[number];

/** The request's fault header, or undefined when absent; an unknown value is the caller's mistake (400). */
export function requestedFault(req: Request): Fault | undefined {
  const value = req.get(FAULT_HEADER)?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (!(FAULTS as readonly string[]).includes(value)) {
    throw new HttpError(400, 'invalid_fault', `${FAULT_HEADER} must be one of ${FAULTS.join(', ')}, not "${value}"`);
  }
  return value as Fault;
}

/** Headers that carry the fault on to the next hop. */
export function faultHeaders(fault: Fault | undefined): Record<string, string> {
  return fault ? { [FAULT_HEADER]: fault } : {};
}
