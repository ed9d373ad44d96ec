import type { MessageDetails } from './codes';
import { codedError } from './coded-error';

/** The codes a {@link ShareabilityError} carries. */
export type ShareabilityErrorCode = 'ERR_NOT_SHAREABLE' | 'ERR_UNSHAREABLE_DECLARED_TYPE' | 'ERR_TRANSFER_USED';

/**
 * A value that may not cross between threads was passed where one must: a monitor call's
 * argument or result, a constructor argument, a `@shareable` field. It is a `TypeError`, and its
 * message names the call, the path inside the value and the fix.
 *
 * @example
 * ```ts
 * try {
 *   await counter.add(['a']);
 * } catch (error) {
 *   // Counter.add: argument 0 is a mutable Array; pass freeze(value) or a frozen copy
 *   if (error instanceof ShareabilityError) console.error(error.message);
 * }
 * ```
 */
export class ShareabilityError<C extends ShareabilityErrorCode = ShareabilityErrorCode> extends codedError(TypeError, 'ShareabilityError') {
  /** The stable code of this failure. */
  declare readonly code: C;

  constructor(code: C, ...details: MessageDetails<C>) {
    super(code, details);
  }
}
