import { types } from 'node:util';
import { ShareabilityError } from '../errors/shareability-error';
import type { Immutable } from '../types';
import { findViolation, findViolationIfFrozen, isArrayPrototype, isPlainPrototype, isPrototypeObject } from './check';
import { knownObjects } from './known-objects';
import { isTransferMarker } from './transfer';
import { verifiedValues } from './verified-values';

/**
 * Deep-freezes `value` in place and returns it, typed {@link Immutable}, ready to cross threads.
 *
 * Plain objects and arrays are frozen all the way down. Values that freezing cannot make
 * shareable (a function, a Map, an instance of a class that is not `@shareable`) make it throw a
 * {@link ShareabilityError} naming the path before anything is frozen, so a frozen result is
 * always shareable and a refused value is left as it was. The result is remembered as verified, so passing it
 * later costs nothing.
 *
 * @example
 * ```ts
 * const order = freeze({ id: 7, lines: [{ sku: 'A1', quantity: 2 }] });
 * await shop.place(order); // order.lines[0].quantity = 3 would now throw
 * ```
 */
export function freeze<T>(value: T): Immutable<T> {
  // Check first, then freeze: a refused value is left untouched, not half frozen.
  const refused = findViolationIfFrozen(value);
  if (refused !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', 'freeze(value): value', refused.path, refused.what, refused.fix);
  freezeDeeply(value, new Set());
  const found = findViolation(value, false);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', 'freeze(value): value', found.path, found.what, found.fix);
  return value as Immutable<T>;
}

/**
 * Freezes plain objects and arrays below `value`; leaves anything else for the check to judge.
 * Only for values the check has passed as if frozen, so it recurses at most as deep as the limit.
 */
export function freezeDeeply(value: unknown, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  if (verifiedValues().has(value) || knownObjects().isSelfProtecting(value)) return;
  // Proxies would run traps, views over memory cannot be frozen, markers are checked elsewhere.
  if (types.isProxy(value) || ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value) || isTransferMarker(value)) return;
  // Never freeze a prototype (Object.prototype, Array.prototype): the check refuses them.
  if (isPrototypeObject(value)) return;
  seen.add(value);
  const prototype = Object.getPrototypeOf(value) as object | null;
  const plain = isPlainPrototype(prototype) || (Array.isArray(value) && isArrayPrototype(prototype));
  if (!plain) return;
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && 'value' in descriptor) freezeDeeply(descriptor.value, seen);
  }
  Object.freeze(value);
}
