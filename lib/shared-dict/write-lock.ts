import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { thisThread } from '../runtime';
import { threadLiveness } from '../threads/thread-liveness';
import { Word } from './dict-memory';

/**
 * The write lock of a `SharedDict`: the first 64 bits of its memory, taken with a compare-and-swap
 * by the thread that writes, from any thread. Readers never take it.
 *
 * A write holds it for microseconds: it runs no user code, and serializes the value before it
 * takes the lock. The only way a holder fails to let go is to stop running in the middle (its
 * worker terminated, or killed for running out of memory), which leaves the lock taken for good.
 * Such a lock is taken over, and the caller repairs what the dead write may have left half done;
 * but taking it from a holder that is alive, only paused (a long GC, a debugger, a loaded machine),
 * would let two writes run at once and corrupt the table. So the lock word names its holder, and
 * it is taken over only once that holder is known dead:
 *
 * - a worker lists itself in the process's table of live threads (threads/thread-liveness.ts)
 *   before it first takes a lock, and the main thread clears it there when the worker's thread
 *   has stopped: a waiter takes the lock over when its holder is no longer listed;
 * - the main thread's locks are never taken over: when it ends, the process does;
 * - the main thread cannot hear of a worker's end while it waits here (its event loop is stopped):
 *   it takes over the lock of a worker it has begun to end (terminated: it stops within moments)
 *   after {@link ENDING_GRACE_MS}, and of any other worker after {@link LOCK_BREAK_MS};
 * - a holder that could not list itself (more than 4096 workers at once, or a worker that
 *   safethread did not start) is taken over after {@link LOCK_BREAK_MS} held by one acquisition.
 *
 * The timeouts are the cases no sound signal reaches, made long enough that only a debugger
 * stopped inside a write (or a thread being terminated that the system does not run for a second)
 * could outlast them.
 *
 * The lock word is `(ticket << 32) | holder`: the ticket, unique to each acquisition, tells one
 * long hold from a series of short ones; the holder is its thread id (0 for the main thread), with
 * {@link UNLISTED} set when it could not list itself.
 */

/** How long the lock of a holder that cannot be told dead may stay taken by one acquisition before it is taken over. */
export const LOCK_BREAK_MS = 30_000;

/** How long the main thread waits for the lock of a worker it has begun to end (terminated): it stops within moments. */
export const ENDING_GRACE_MS = 1000;

/** Tries before a waiting thread sleeps: most writes end within them. */
const SPINS = 100;
/** The longest sleep between checks, so that a dead holder is noticed on time. */
const SLEEP_MS = 20;
/** Set in the holder part of the lock word when the holder is not in the table of live threads. */
const UNLISTED = 0x80000000;
const FREE = 0n;
/** The lock word's index, in 64-bit words. */
const LOCK = 0;

/** One thread's handle on a dictionary's write lock. */
export class WriteLock {
  readonly #words: Int32Array;
  readonly #lock: BigInt64Array;
  /** The lock word while this thread holds it. */
  #mine = FREE;

  constructor(memory: SharedArrayBuffer) {
    this.#words = new Int32Array(memory);
    this.#lock = new BigInt64Array(memory, 0, 1);
  }

  /**
   * Takes the lock, waiting while another thread holds it. Returns true when it took over the lock
   * of a holder that died mid-write: the caller must repair before writing.
   */
  take(): boolean {
    const words = this.#words;
    const lock = this.#lock;
    let ticket = Atomics.add(words, Word.TICKETS, 1) + 1;
    if (ticket === 0) ticket = Atomics.add(words, Word.TICKETS, 1) + 1;
    const me = (BigInt(ticket >>> 0) << 32n) | BigInt(holderOfThisThread());
    let held = FREE;
    let heldSince = 0;
    for (let tries = 0; ; tries++) {
      const current = Atomics.compareExchange(lock, LOCK, FREE, me);
      if (current === FREE) {
        this.#mine = me;
        return false;
      }
      if (tries < SPINS) continue;
      const now = performance.now();
      if (current !== held) {
        held = current;
        heldSince = now;
      }
      if (isDead(Number(current & 0xffffffffn), now - heldSince)) {
        if (Atomics.compareExchange(lock, LOCK, current, me) === current) {
          this.#mine = me;
          return true;
        }
        continue;
      }
      Atomics.add(words, Word.LOCK_WAITERS, 1);
      Atomics.wait(lock, LOCK, current, SLEEP_MS);
      Atomics.sub(words, Word.LOCK_WAITERS, 1);
    }
  }

  /**
   * Lets go of the lock, waking one sleeping writer if there is one. Only this acquisition's lock:
   * had it been taken over, letting go of it would let a third writer in beside the second.
   */
  release(): void {
    const mine = this.#mine;
    this.#mine = FREE;
    if (Atomics.compareExchange(this.#lock, LOCK, mine, FREE) !== mine) return;
    if (Atomics.load(this.#words, Word.LOCK_WAITERS) > 0) Atomics.notify(this.#lock, LOCK, 1);
  }
}

/** What this thread writes in the holder part of the lock word. */
function holderOfThisThread(): number {
  if (isMainThread) return 0;
  // A worker safethread did not start (its id is unnamed here) is never listed: only a timeout frees its lock.
  return thisThread().id !== 0 && threadLiveness().listThisThread() ? thisThread().id : (threadId | UNLISTED) >>> 0;
}

/** Whether the holder named `holder` in the lock word, seen holding it for `heldMs`, is known to have stopped for good. */
function isDead(holder: number, heldMs: number): boolean {
  // The main thread: when it ends, the process does.
  if (holder === 0) return false;
  if ((holder & UNLISTED) !== 0) return heldMs >= LOCK_BREAK_MS;
  const state = threadLiveness().stateOf(holder);
  if (state === 'dead') return true;
  // A worker waits until the main thread has seen the holder stop. The main thread hears of that
  // only between tasks, never while it waits here: a holder it has begun to end (terminated, which
  // takes effect within moments) is taken for dead after ENDING_GRACE_MS, any other after LOCK_BREAK_MS.
  if (!isMainThread) return false;
  return heldMs >= (state === 'ending' ? ENDING_GRACE_MS : LOCK_BREAK_MS);
}
