import { thisThread } from '../runtime';
import type { Outcome } from './protocol';
import { decode } from './serialize';
import { deserializeError, serializeError } from './serialize-error';

/**
 * How a call, a task or a spawn ended, on its way from the thread that ran it to the thread that
 * waits for it (the protocol's {@link Outcome}): the value encoded, or the error as plain data.
 */

/** What waits for an outcome: a pending call, child or spawn. */
export interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Settles `pending` with an outcome that arrived: with the value decoded on this thread, or with
 * the error revived here. A value that cannot be decoded here rejects it instead.
 *
 * @param callerStack - the stack of the call that waited, joined under the remote frames (see
 *   {@link deserializeError})
 * @example
 * ```ts
 * settleOutcome(message, job, job.origin?.stack);
 * ```
 */
export function settleOutcome(outcome: Outcome, pending: Pending, callerStack?: string): void {
  if (!outcome.ok) {
    pending.reject(deserializeError(outcome.error, callerStack));
    return;
  }
  try {
    pending.resolve(decode(outcome.value));
  } catch (error) {
    pending.reject(error);
  }
}

/**
 * The outcome of something that failed on this thread, the error made plain data for the thread
 * that waits.
 *
 * @example
 * ```ts
 * router().send(threadId, { kind: MessageKind.ChildSettled, id, ...failure(error) });
 * ```
 */
export function failure(error: unknown): Extract<Outcome, { readonly ok: false }> {
  return { ok: false, error: serializeError(error, thisThread().name) };
}
