import { formatMessage } from './codes';

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
export class BranchError extends AggregateError {
  override readonly name = 'BranchError';
  /** The stable code of this failure. */
  readonly code = 'ERR_BRANCH_FAILED' as const;

  constructor(errors: readonly unknown[]) {
    super(errors, formatMessage('ERR_BRANCH_FAILED', errors.length));
  }
}
