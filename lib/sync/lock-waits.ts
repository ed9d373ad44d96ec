import { warningMessages } from '../errors/codes';
import { slot, thisThread } from '../runtime';

/** A waiting acquire as the exit warning tells it. */
export interface LockWaitState {
  /** `Lock#3.acquire()`. */
  readonly wait: string;
  readonly seconds: string;
  /** Who holds the lock, as far as it can tell. */
  readonly why: string;
}

/**
 * The waiting acquires of this thread's locks, to tell of them when the process exits with them
 * pending.
 *
 * A waiting acquire does not keep the process alive: when nothing else does (a permit was never
 * released, and its holder is done), Node exits with the promise never settled and the code
 * awaiting it never resumed, silently. On the main thread, while any wait lasts, a 'beforeExit'
 * listener turns that into a warning, once per wait. (The channel's waits do the same,
 * channel/channel-core.ts; the two may share this one day.)
 */
class LockWaits {
  readonly #waits = new Set<() => LockWaitState>();
  readonly #warned = new WeakSet<() => LockWaitState>();
  readonly #beforeExit = (): void => {
    for (const describe of this.#waits) {
      if (this.#warned.has(describe)) continue;
      this.#warned.add(describe);
      const { wait, seconds, why } = describe();
      process.emitWarning(warningMessages.SAFETHREAD_LOCK_WAIT(wait, seconds, why), { code: 'SAFETHREAD_LOCK_WAIT' });
    }
  };

  /** Adds a wait; the function returned removes it. */
  add(describe: () => LockWaitState): () => void {
    if (this.#waits.size === 0 && thisThread().id === 0) process.on('beforeExit', this.#beforeExit);
    this.#waits.add(describe);
    return () => {
      if (!this.#waits.delete(describe)) return;
      if (this.#waits.size === 0) process.off('beforeExit', this.#beforeExit);
    };
  }
}

/** This thread's waiting acquires. */
export const lockWaits = slot('lock waits', () => new LockWaits());
