// What an order is, and the checks a request body must pass to become one.
import { HttpError } from '../shared/http.js';

export interface OrderRequest {
  customer: string;
  item: string;
  quantity: number;
}

export interface Order extends OrderRequest {
  orderId: string;
  amountCents: number;
  placedAt: string;
}

/** Every item costs the same in this shop: the lab is about telemetry, not pricing. */
export const UNIT_PRICE_CENTS = 2_500;

function nonEmptyString(body: Record<string, unknown>, field: string, problems: string[]): void {
  const v = body[field];
  if (v === undefined) problems.push(`${field} is missing`);
  else if (typeof v !== 'string') problems.push(`${field} must be a string, got ${typeof v}`);
  else if (v.trim() === '' || v.length > 100) problems.push(`${field} must be 1 to 100 characters`);
}

/** Throws a 400 listing every problem at once, so a lab user fixes the body in one go. */
export function parseOrder(body: Record<string, unknown>): OrderRequest {
  const problems: string[] = [];
  nonEmptyString(body, 'customer', problems);
  nonEmptyString(body, 'item', problems);
  const q = body.quantity;
  if (q === undefined) problems.push('quantity is missing');
  else if (typeof q !== 'number') problems.push(`quantity must be a number, got ${typeof q}`);
  else if (!Number.isInteger(q) || q < 1 || q > 100) problems.push('quantity must be an integer from 1 to 100');
  if (problems.length) throw new HttpError(400, 'invalid_order', problems.join('; '), problems);
  return { customer: body.customer as string, item: body.item as string, quantity: q as number };
}
