import { warningMessages } from '../errors/codes';
import { slot } from '../runtime';
import { WaitsAtExit, type WaitAtExitState } from '../deadlock/waits-at-exit';

/** A waiting acquire as the exit warning tells it: `Lock#3.acquire()`, its age, who holds the lock. */
export type LockWaitState = WaitAtExitState;

/**
 * This thread's waiting acquires: a process that exits with one pending warns
 * `SAFETHREAD_LOCK_WAIT` instead of exiting silently (see deadlock/waits-at-exit.ts).
 */
export const lockWaits = slot(
  'lock waits',
  () => new WaitsAtExit(({ wait, seconds, why }) => process.emitWarning(warningMessages.SAFETHREAD_LOCK_WAIT(wait, seconds, why), { code: 'SAFETHREAD_LOCK_WAIT' })),
);
