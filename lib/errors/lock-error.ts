import { codedError } from './coded-error';

/**
 * A `Lock` or `Semaphore` permit was misused: released a second time (`ERR_LOCK_RELEASED`).
 * Thrown at once by the second `release()` (or the `using` block's end), naming the lock.
 *
 * @example
 * ```ts
 * const permit = await lock.acquire();
 * permit.release();
 * try {
 *   permit.release();
 * } catch (error) {
 *   if (error instanceof LockError) console.log(error.code); // 'ERR_LOCK_RELEASED'
 * }
 * ```
 */
export class LockError extends codedError(Error, 'LockError') {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_LOCK_RELEASED';

  /** @param permit - the permit, as `a permit of Lock#3` */
  constructor(code: 'ERR_LOCK_RELEASED', permit: string) {
    super(code, [permit]);
  }
}
