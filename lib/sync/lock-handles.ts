import type { CancellationToken } from '../cancellation/cancellation-token';
import { ambientContext, runInContext } from '../cancellation/current-token';
import { currentCall } from '../deadlock/monitor-call';
import { DefinitionError } from '../errors/definition-error';
import { endpointOf } from '../monitor/reference';
import { slot } from '../runtime';
import { knownObjects } from '../shareability/known-objects';
import { Permit } from './permit';
import { PermitCell } from './permit-cell';
import type { PermitCore } from './semaphore-core';

/**
 * What `Lock` and `Semaphore` handles share: each is a frozen handle of a core, a monitor on the
 * thread that made it (semaphore-core.ts), and acquiring is one call to that core.
 */

/**
 * Options of an acquire's wait.
 *
 * @example
 * ```ts
 * using _held = await lock.acquire({ token: CancellationToken.fromSignal(AbortSignal.timeout(1000)) });
 * ```
 */
export interface LockWaitOptions {
  /**
   * Ends the wait with a `CancelledError` when cancelled; no permit is taken then.
   * @default currentToken(): the running child's, call's or branch body's token
   */
  readonly token?: CancellationToken;
}

/** The core behind a handle, and what the handle says of it. */
export interface LockHandle {
  readonly core: PermitCore;
  readonly permits: number;
  readonly shape: 'lock' | 'semaphore';
  /** The core's label, `Lock#3` or `Semaphore#4`, for messages. */
  readonly label: string;
}

/** Makes `handle` the handle of `core`: frozen, self-protecting, and known to the serializer. */
export function adoptCore(handle: object, core: object, permits: number, shape: 'lock' | 'semaphore'): void {
  const label = endpointOf(core)?.label ?? (shape === 'lock' ? 'Lock' : 'Semaphore');
  if (shape === 'semaphore') Object.defineProperty(handle, 'permits', { value: permits, enumerable: true });
  lockHandles().set(handle, { core: core as PermitCore, permits, shape, label });
  knownObjects().addSelfProtecting(handle);
  Object.freeze(handle);
}

/** The core behind a handle of this thread, if `handle` is one. */
export function findHandle(handle: object): LockHandle | undefined {
  return lockHandles().get(handle);
}

/**
 * Takes `count` permits of the handle's core, waiting first come, first served. The call to the
 * core goes on running while the permits are held; the grant comes through the permit's cell.
 */
export async function acquirePermits(handle: object, count: number, options: LockWaitOptions): Promise<Permit> {
  const { core, permits, label } = findHandle(handle) as LockHandle;
  if (!Number.isInteger(count) || count < 1 || count > permits) {
    throw new DefinitionError('ERR_INVALID_OPTION', `${label}.acquire(count)`, 'count', `a whole number from 1 to ${permits}`, String(count));
  }
  const cell = new PermitCell();
  const holding = underToken(options.token, () => core.hold(count, cell.memory));
  let failure: { readonly error: unknown } | undefined;
  holding.then(
    // Settled after the release, or failed because the lock's thread ended while held: nothing to do then.
    () => cell.abandon(),
    (error: unknown) => {
      failure = { error };
      cell.abandon();
    },
  );
  if (!(await cell.granted())) throw (failure as { readonly error: unknown }).error;
  // The calling turn holds the permit now; it no longer waits for the call that holds it.
  currentCall()?.stopWaitingFor(cell.callId);
  return new Permit(cell, label, count);
}

/** Runs `body` holding `count` permits; releases them when it settles, however it settles. */
export async function runHolding<R>(handle: object, count: number, options: LockWaitOptions, body: () => R | PromiseLike<R>): Promise<R> {
  const permit = await acquirePermits(handle, count, options);
  try {
    return await body();
  } finally {
    permit.release();
  }
}

/** The core (a monitor reference) behind each lock and semaphore handle on this thread. */
const lockHandles = slot('lock handles', () => new WeakMap<object, LockHandle>());

/** Runs a wait under the given token instead of the ambient one. */
function underToken<R>(token: CancellationToken | undefined, wait: () => Promise<R>): Promise<R> {
  if (token === undefined) return wait();
  return runInContext({ ...ambientContext(), token }, wait);
}
