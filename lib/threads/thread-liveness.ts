import { types } from 'node:util';
import { getEnvironmentData, isMainThread, setEnvironmentData } from 'node:worker_threads';
import { slot, thisThread } from '../runtime';

/**
 * Which worker threads are alive, in memory every thread of the process shares, for locks in
 * shared memory (a `SharedDict`'s write lock) that must tell a holder that died from one that is
 * only paused (a long GC, a debugger, a loaded machine): only the first may have its lock taken.
 *
 * A worker that takes such a lock first writes its thread id into a free slot of the table; the
 * main thread, which alone hears of a worker's end (the worker's 'exit' event, once its thread has
 * stopped for good), clears that slot then. So a thread whose id was written and is no longer
 * found is dead: nothing else clears a slot, and a dead thread cannot write its id again. A thread
 * that could not write its id (the table is full, or it was not started with it) is unknown.
 * Before that, when the main thread begins to end a worker (the router detaches it, then it is
 * terminated), its slot is marked as ending: it stops within moments, but the main thread, if it
 * is itself waiting for that worker's lock, cannot hear its 'exit' until it stops waiting.
 *
 * The table travels in every worker's environment data (`setEnvironmentData`), which each new
 * worker is given a copy of when it is made: it is made on the main thread when this module loads,
 * before any worker is started. Runtimes loaded side by side in one process (jest's module
 * registries) find the one already there and share it.
 */

const ENVIRONMENT_KEY = 'safethread:thread-liveness';
/** Workers alive at once that can be told dead; a worker beyond them is unknown. */
const SLOTS = 4096;
const FREE = 0;

/** A listed worker: running; being ended by the main thread (it may run for a moment yet); or stopped for good. */
export type ThreadState = 'alive' | 'ending' | 'dead';

class ThreadLiveness {
  readonly #table: Int32Array | undefined;
  /** Whether this thread wrote its id into the table; undefined until it tries. */
  #listed: boolean | undefined;

  constructor() {
    const found: unknown = getEnvironmentData(ENVIRONMENT_KEY);
    if (types.isSharedArrayBuffer(found) && found.byteLength === SLOTS * 4) {
      this.#table = new Int32Array(found);
    } else if (isMainThread || thisThread().id === 0) {
      const memory = new SharedArrayBuffer(SLOTS * 4);
      setEnvironmentData(ENVIRONMENT_KEY, memory);
      this.#table = new Int32Array(memory);
    }
  }

  /**
   * Lists this thread in the table, once; true when a waiter will be able to tell that it died.
   * The main thread is never listed: when it ends, the process does.
   */
  listThisThread(): boolean {
    if (this.#listed !== undefined) return this.#listed;
    const id = thisThread().id;
    const table = this.#table;
    this.#listed = false;
    if (id === 0 || table === undefined) return false;
    for (let index = 0; index < SLOTS; index++) {
      if (Atomics.load(table, index) === FREE && Atomics.compareExchange(table, index, FREE, id) === FREE) {
        this.#listed = true;
        break;
      }
    }
    return this.#listed;
  }

  /**
   * How listed thread `threadId` is now: dead once the main thread cleared its slot; ending while
   * the main thread is ending it (its slot holds the id negated), until its thread has stopped.
   */
  stateOf(threadId: number): ThreadState {
    const table = this.#table;
    if (table === undefined) return 'alive';
    for (let index = 0; index < SLOTS; index++) {
      const listed = Atomics.load(table, index);
      if (listed === threadId) return 'alive';
      if (listed === -threadId) return 'ending';
    }
    return 'dead';
  }

  /** The main thread: it began to end worker `threadId` (its thread is being terminated), which may still run for a moment. */
  threadEnding(threadId: number): void {
    const table = this.#table;
    if (table === undefined || threadId <= 0) return;
    for (let index = 0; index < SLOTS; index++) {
      if (Atomics.load(table, index) === threadId) Atomics.compareExchange(table, index, threadId, -threadId);
    }
  }

  /** The main thread: worker `threadId` has stopped (its 'exit' event), so its slot is cleared. */
  threadEnded(threadId: number): void {
    const table = this.#table;
    if (table === undefined || threadId <= 0) return;
    for (let index = 0; index < SLOTS; index++) {
      const listed = Atomics.load(table, index);
      if (listed === threadId || listed === -threadId) Atomics.compareExchange(table, index, listed, FREE);
    }
  }
}

/** This thread's view of the process's table of live workers. */
export const threadLiveness = slot('thread liveness', () => new ThreadLiveness());

// Made now, on the main thread before it starts any worker, so that every worker is given the table.
threadLiveness();
