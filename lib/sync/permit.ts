import { warningMessages } from '../errors/codes';
import { LockError } from '../errors/lock-error';
import { slot } from '../runtime';
import type { PermitCell } from './permit-cell';

/**
 * What `lock.acquire()` and `semaphore.acquire()` give: the permits held, until `release()`.
 * Release it exactly once, best with `using` (or `await using`), which releases it when the block
 * ends, however it ends. A second release throws a {@link LockError}. A permit stays on the
 * thread that acquired it (it is not shareable); if that thread dies, its permits are released.
 *
 * Releasing is synchronous and sends no message: it marks the permit's shared memory, and the
 * lock's thread hands the permits on to the next waiter in line.
 *
 * @example
 * ```ts
 * {
 *   using _held = await lock.acquire();
 *   await writeTheFile();
 * } // released here, even if writeTheFile() threw
 * ```
 */
export class Permit {
  /** How many of the semaphore's permits it holds (1 for a lock). */
  readonly count: number;
  readonly #cell: PermitCell;
  readonly #lock: string;
  #released = false;

  /** @internal Permits come from `acquire()`. */
  constructor(cell: PermitCell, lock: string, count: number) {
    this.#cell = cell;
    this.#lock = lock;
    this.count = count;
    droppedPermits().watch(this, cell, lock);
  }

  /** Whether it was released. */
  get released(): boolean {
    return this.#released;
  }

  /** Gives the permits back; throws a {@link LockError} (`ERR_LOCK_RELEASED`) when already released. */
  release(): void {
    if (this.#released) throw new LockError('ERR_LOCK_RELEASED', `a permit of ${this.#lock}`);
    this.#released = true;
    droppedPermits().unwatch(this);
    // False only when the lock's thread released it already, for a thread it took for dead: nothing left to give.
    this.#cell.release();
  }

  /** `using _held = await lock.acquire()` releases it when the block ends. */
  declare [Symbol.dispose]: () => void;

  /** `await using _held = await lock.acquire()` releases it when the block ends. */
  declare [Symbol.asyncDispose]: () => Promise<void>;
}

// Node's own symbols, also where a realm (jest's vm context) lacks them: they are registered symbols.
const DISPOSE: symbol = Symbol.dispose ?? Symbol.for('nodejs.dispose');
const ASYNC_DISPOSE: symbol = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

Object.defineProperty(Permit.prototype, DISPOSE, {
  value: function dispose(this: Permit): void {
    this.release();
  },
  writable: true,
  configurable: true,
});

Object.defineProperty(Permit.prototype, ASYNC_DISPOSE, {
  value: function asyncDispose(this: Permit): Promise<void> {
    try {
      this.release();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  },
  writable: true,
  configurable: true,
});

/**
 * Permits not released yet, held weakly. One that nothing references any more can never be
 * released by its holder (a pool child that returned without releasing it, code that forgot it),
 * and would keep its lock taken as long as its thread lives, which for a pool thread is as long as
 * the program: it is released when it is garbage-collected, with a warning, since that may take long.
 */
class DroppedPermits {
  readonly #registry = new FinalizationRegistry<{ readonly cell: PermitCell; readonly lock: string }>(({ cell, lock }) => {
    if (cell.release()) process.emitWarning(warningMessages.SAFETHREAD_PERMIT_DROPPED(`a permit of ${lock}`), { code: 'SAFETHREAD_PERMIT_DROPPED' });
  });

  watch(permit: Permit, cell: PermitCell, lock: string): void {
    this.#registry.register(permit, { cell, lock }, permit);
  }

  unwatch(permit: Permit): void {
    this.#registry.unregister(permit);
  }
}

const droppedPermits = slot('dropped permits', () => new DroppedPermits());
