import { runtime } from '../runtime';
import { freezeDeeply } from '../shareability/freeze';

/**
 * Values on their way between threads. A shareable value is sent by structured clone; the copy
 * that arrives is frozen again and remembered as verified, so the receiver holds a value that
 * behaves exactly like the sender's: immutable, and shareable onwards at no cost.
 */
export function encodeValue(value: unknown): unknown {
  return value;
}

export function decodeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = new Set<object>();
  freezeDeeply(value, seen);
  for (const object of seen) runtime.verifiedShareable.add(object);
  return value;
}
