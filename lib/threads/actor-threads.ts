import type { Worker } from 'node:worker_threads';
import { slot } from '../runtime';
import { router } from './transport';

/**
 * The actors' threads, which the main thread started, and how one ends: it
 * leaves the router, whose calls in flight to it are answered, and its worker is terminated.
 * A thread that is not an actor's (a pool thread serving monitors) is never ended here.
 */

/** Main thread: ends an actor's thread, if `threadId` is one. */
export async function endActor(threadId: number, why: string): Promise<void> {
  const worker = actorThreads().remove(threadId);
  if (worker === undefined) return;
  router().detach(threadId, why);
  await worker.terminate();
}

/** Ends every actor (main thread), as part of `shutdown()`. */
export async function closeAllActors(): Promise<void> {
  await Promise.all(actorThreads().ids().map((threadId) => endActor(threadId, 'safethread was shut down')));
}

/** The actors' threads (main thread only), by thread id, from their start until they end. */
export class ActorThreads {
  readonly #workers = new Map<number, Worker>();

  add(threadId: number, worker: Worker): void {
    this.#workers.set(threadId, worker);
  }

  /** Takes an actor's thread out of the table: it ended, or is ending. */
  remove(threadId: number): Worker | undefined {
    const worker = this.#workers.get(threadId);
    this.#workers.delete(threadId);
    return worker;
  }

  ids(): number[] {
    return [...this.#workers.keys()];
  }

  /** How many actors' threads are running. */
  get size(): number {
    return this.#workers.size;
  }
}

/** This thread's actors' threads. */
export const actorThreads = slot('actor threads', () => new ActorThreads());
