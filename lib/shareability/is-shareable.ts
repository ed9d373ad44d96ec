import { ShareabilityError } from '../errors/shareability-error';
import type { Shareable } from '../types';
import { findViolation } from './check';

/**
 * Whether `value` may cross between threads: a primitive (not a symbol), a deeply frozen plain
 * object or array, a `@shareable` instance, a monitor reference, or shared memory.
 *
 * @example
 * ```ts
 * isShareable(freeze({ tags: ['a'] })); // true
 * isShareable({ tags: ['a'] });         // false: not frozen
 * isShareable(new Map());               // false: never shareable
 * ```
 */
export function isShareable(value: unknown): value is Shareable {
  return findViolation(value, false) === undefined;
}

/**
 * Throws a {@link ShareabilityError} naming the path and the fix unless `value` is shareable.
 *
 * @param label - how the message names the value, e.g. `'config'`
 * @default label 'value'
 * @example
 * ```ts
 * assertShareable(settings, 'settings');
 * // ShareabilityError: settings .retry.delays is a mutable Array; pass freeze(value) or a frozen copy
 * ```
 */
export function assertShareable(value: unknown, label = 'value'): asserts value is Shareable {
  const found = findViolation(value, false);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', label, found.path, found.what, found.fix);
}
