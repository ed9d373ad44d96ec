import { codedError } from './coded-error';

/**
 * More than one child of a `branch` failed. It is an `AggregateError`: `errors` holds every
 * failure in the order they happened. (A single failure rejects the branch with that error.)
 *
 * @example
 * ```ts
 * await branch(body).catch((error) => {
 *   if (error instanceof BranchError) for (const e of error.errors) console.error(e);
 * });
 * ```
 */
export class BranchError extends codedError(AggregateError, 'BranchError', 1) {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_BRANCH_FAILED';

  constructor(errors: readonly unknown[]) {
    super('ERR_BRANCH_FAILED', [errors.length], errors);
  }
}
