import { formatMessage } from './codes';
import { codedError } from './coded-error';

/**
 * A wait or a piece of work ended because its cancellation token fired. The token's reason is
 * kept as `reason` and as `cause`, the way the platform's `AbortSignal` does it.
 *
 * @example
 * ```ts
 * try {
 *   await sleep(10_000, { token });
 * } catch (error) {
 *   if (error instanceof CancelledError) console.log('stopped because', error.reason);
 * }
 * ```
 */
export class CancelledError extends codedError(Error, 'CancelledError' as string) {
  // Its `name` is a string, not the literal 'CancelledError': TimeoutError renames it.
  /** The stable code of this failure. */
  declare readonly code: 'ERR_CANCELLED' | 'ERR_TIMEOUT';
  /** Why it was cancelled: the value given to `cancel(reason)`, if any. */
  readonly reason: unknown;

  /**
   * @param reason - why, usually the token's reason
   * @param what - what was cancelled, for the message
   */
  constructor(reason?: unknown, what = 'the operation') {
    super('ERR_CANCELLED', [what], reason === undefined ? undefined : { cause: reason });
    this.reason = reason;
  }
}

/**
 * A deadline passed (`timeoutMs`). It is also a {@link CancelledError}, so code that handles
 * cancellation handles timeouts too.
 *
 * @example
 * ```ts
 * await branch(body, { timeoutMs: 1000 }).catch((error) => {
 *   if (error instanceof TimeoutError) console.log(error.timeoutMs);
 * });
 * ```
 */
export class TimeoutError extends CancelledError {
  override readonly name: string = 'TimeoutError';
  override readonly code = 'ERR_TIMEOUT' as const;
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, what = 'the operation') {
    super(undefined, what);
    this.message = formatMessage('ERR_TIMEOUT', what, timeoutMs);
    this.timeoutMs = timeoutMs;
  }
}
