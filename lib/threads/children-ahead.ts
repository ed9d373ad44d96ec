import { slot } from '../runtime';
import { IN_FLIGHT_PER_THREAD } from './placement';
import type { RunTaskMessage } from './protocol';

/**
 * Children sent ahead to a pool thread (see threads/placement.ts, rule 4): each waits on the
 * thread behind the child it was sent after, and starts the moment that one settles, with no
 * round trip to the main thread in between.
 *
 * Until it starts, the pool may take it back (its child before it began to wait, the thread is
 * being ended, another thread fell idle). Thread and pool decide who wins through one word of
 * shared memory per child sent ahead: the thread claims the child by swapping the word from the
 * child's ticket to 0 before starting it, the pool takes it back by the same swap. Exactly one of
 * them succeeds, at once, even while the thread is busy in a CPU-bound child; a child taken back
 * never runs here.
 */

/** How many claim words each pool thread has: more than it can ever hold ahead at once. */
export const CLAIM_WORDS = IN_FLIGHT_PER_THREAD;

/** The word's value for a child sent ahead: never 0, which marks a free word. */
export function claimTicket(id: number): number {
  return id % 0x7fffffff || 0x7fffffff;
}

/** A worker's children sent ahead, waiting for the child before them to settle. */
class ChildrenAhead {
  #claims: Int32Array | undefined = undefined;
  /** The children started on this thread and not yet settled. */
  readonly #running = new Set<number>();
  /** Children waiting to start, by the child they wait behind. */
  readonly #behind = new Map<number, RunTaskMessage[]>();
  /** The children waiting in {@link #behind}: one sent after them waits too. */
  readonly #waiting = new Set<number>();

  /** A child arrived: it starts now, or behind the child it was sent after if that one still runs. */
  receive(message: RunTaskMessage, run: (message: RunTaskMessage) => unknown): void {
    if (message.claims !== undefined) this.#claims = new Int32Array(message.claims);
    const after = message.ahead?.after;
    if (after !== undefined && (this.#running.has(after) || this.#waiting.has(after))) {
      this.#waiting.add(message.id);
      const waiting = this.#behind.get(after);
      if (waiting === undefined) this.#behind.set(after, [message]);
      else waiting.push(message);
      return;
    }
    this.#start(message, run);
  }

  /**
   * The child `id` settled: those waiting behind it start once its result has left, so that the
   * main thread hears of it, and sends the next child ahead, while they run (a CPU-bound child
   * started at once would hold the result back until it ends, and the thread would then wait).
   */
  settled(id: number, run: (message: RunTaskMessage) => unknown): void {
    if (!this.#behind.has(id)) {
      this.#running.delete(id);
      return;
    }
    // The outbox flushes on an immediate queued before this one (threads/batched-port.ts).
    setImmediate(() => {
      this.#running.delete(id);
      this.#release(id, run);
    });
  }

  #start(message: RunTaskMessage, run: (message: RunTaskMessage) => unknown): void {
    this.#waiting.delete(message.id);
    if (message.ahead !== undefined && !this.#claim(message.id, message.ahead.claim)) {
      // The pool took it back: it never runs here, and what waited behind it goes on.
      this.#release(message.id, run);
      return;
    }
    this.#running.add(message.id);
    run(message);
  }

  #release(id: number, run: (message: RunTaskMessage) => unknown): void {
    const waiting = this.#behind.get(id);
    if (waiting === undefined) return;
    this.#behind.delete(id);
    for (const message of waiting) this.#start(message, run);
  }

  #claim(id: number, word: number): boolean {
    const claims = this.#claims;
    if (claims === undefined) return false;
    const ticket = claimTicket(id);
    return Atomics.compareExchange(claims, word, ticket, 0) === ticket;
  }
}

/** This worker's children sent ahead. */
export const childrenAhead = slot('children sent ahead', () => new ChildrenAhead());
