import { knownObjects } from '../shareability/known-objects';
import { acquirePermits, adoptCore, runHolding, type LockWaitOptions } from './lock-handles';
import type { Permit } from './permit';
import { LockCore } from './semaphore-core';

/**
 * A mutual-exclusion lock for code on any thread: one holder at a time, the others wait first
 * come, first served. Shareable: pass it to children, monitors and actors on any thread, and they
 * all wait for the same lock. Use it to guard what no monitor owns: a file, a SharedArrayBuffer,
 * an outside service that takes one client at a time. (State that lives in one place is better
 * kept in a `@Monitor`, whose calls already take turns.)
 *
 * `acquire()` gives a {@link Permit}; release it with `using` (or `await using`), or let `run(fn)`
 * acquire and release around a function. A wait ends with a `CancelledError` when its token is
 * cancelled (the lock is not taken then). When the thread holding it dies, the lock is released.
 *
 * The deadlock detector sees a wait when the holder is one monitor turn: a turn waiting for a lock
 * held by a turn that waits for it (a call to the waiter's monitor, another lock) makes one of
 * the waits reject with a `DeadlockError` naming the cycle. `dumpMonitors()` shows each waiting
 * acquire, how long it has waited and who holds the lock. A wait does not keep the process alive.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * await branch((children) => {
 *   for (const name of ['a', 'b', 'c']) {
 *     children.add(async (log: Lock, line: string) => {
 *       using _held = await log.acquire();   // one child at a time appends to the file
 *       await appendFile('out.log', `${line}\n`);
 *     }, lock, name);
 *   }
 * });
 * ```
 */
export class Lock {
  constructor() {
    adoptCore(this, new LockCore(), 1, 'lock');
  }

  /**
   * Waits until the lock is free and takes it; release the permit it gives once, best with
   * `using _held = await lock.acquire()`.
   */
  acquire(options: LockWaitOptions = {}): Promise<Permit> {
    return acquirePermits(this, 1, options);
  }

  /** Runs `fn` holding the lock, and releases it when `fn` settles, whether it returns or throws; gives what `fn` gives. */
  run<R>(fn: () => R | PromiseLike<R>, options: LockWaitOptions = {}): Promise<R> {
    return runHolding(this, 1, options, fn);
  }
}

knownObjects().addSelfProtectingClass(Lock);
