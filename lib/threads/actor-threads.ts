import type { Worker } from 'node:worker_threads';
import { slot } from '../runtime';
import { ignoreStray } from './batched-port';
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

/**
 * Main thread: a worker asks to close an actor. Only the thread that spawned it may (the main
 * thread always can): another thread's code posting a close-actor on its parentPort ends nothing.
 */
export function closeActorFor(requester: number, threadId: number): void {
  const owner = actorThreads().ownerOf(threadId);
  if (owner === undefined) return;
  if (requester !== owner) {
    ignoreStray(`thread ${requester}`, undefined, `a close-actor for the actor on thread ${threadId}, which thread ${owner} spawned`);
    return;
  }
  void endActor(threadId, 'it was closed');
}

/** Ends every actor (main thread), as part of `shutdown()`. */
export async function closeAllActors(): Promise<void> {
  await Promise.all(actorThreads().ids().map((threadId) => endActor(threadId, 'safethread was shut down')));
}

/** The actors' threads (main thread only), by thread id, from their start until they end. */
export class ActorThreads {
  readonly #workers = new Map<number, Actor>();

  /** An actor's thread started, for the thread `owner` that spawned it, to construct its monitor for spawn request `requestId`. */
  add(threadId: number, worker: Worker, owner: number, requestId: number): void {
    this.#workers.set(threadId, { worker, owner, constructing: requestId });
  }

  /** Takes an actor's thread out of the table: it ended, or is ending. */
  remove(threadId: number): Worker | undefined {
    const actor = this.#workers.get(threadId);
    this.#workers.delete(threadId);
    return actor?.worker;
  }

  /** The thread that spawned the actor on `threadId`, if it is one. */
  ownerOf(threadId: number): number | undefined {
    return this.#workers.get(threadId)?.owner;
  }

  /** Whether the actor on `threadId` was constructing its monitor for `requestId`, now done: true once, only for its own request. */
  constructed(threadId: number, requestId: unknown): boolean {
    const actor = this.#workers.get(threadId);
    if (actor === undefined || actor.constructing !== requestId) return false;
    actor.constructing = undefined;
    return true;
  }

  ids(): number[] {
    return [...this.#workers.keys()];
  }

  /** How many actors' threads are running. */
  get size(): number {
    return this.#workers.size;
  }
}

interface Actor {
  readonly worker: Worker;
  readonly owner: number;
  /** The spawn request it constructs its monitor for, until it reports. */
  constructing: number | undefined;
}

/** This thread's actors' threads. */
export const actorThreads = slot('actor threads', () => new ActorThreads());
