import { thisThread } from '../runtime';

/** A wait as an exit warning tells it. */
export interface WaitAtExitState {
  /** What waits, e.g. `Channel#3.get()` or `Lock#4.acquire()`. */
  readonly wait: string;
  /** How long it has waited, formatted. */
  readonly seconds: string;
  /** Why it may never end, as far as the waited-on object can tell. */
  readonly why: string;
}

/**
 * The waits of one kind on this thread (channel gets and puts, lock acquires), to tell of them
 * when the process exits with them pending.
 *
 * Such a wait does not keep the process alive: when nothing else does, Node exits with the
 * promise never settled and the code awaiting it never resumed, silently. On the main thread,
 * while any wait lasts, a 'beforeExit' listener turns that into a warning, once per wait.
 */
export class WaitsAtExit {
  readonly #waits = new Set<() => WaitAtExitState>();
  readonly #warned = new WeakSet<() => WaitAtExitState>();
  readonly #warn: (state: WaitAtExitState) => void;
  readonly #beforeExit = (): void => {
    for (const describe of this.#waits) {
      if (this.#warned.has(describe)) continue;
      this.#warned.add(describe);
      this.#warn(describe());
    }
  };

  /** @param warn - emits the warning for one wait */
  constructor(warn: (state: WaitAtExitState) => void) {
    this.#warn = warn;
  }

  /** Adds a wait, described when the warning needs it; the function returned removes it. */
  add(describe: () => WaitAtExitState): () => void {
    if (this.#waits.size === 0 && thisThread().id === 0) process.on('beforeExit', this.#beforeExit);
    this.#waits.add(describe);
    return () => {
      if (!this.#waits.delete(describe)) return;
      if (this.#waits.size === 0) process.off('beforeExit', this.#beforeExit);
    };
  }
}
