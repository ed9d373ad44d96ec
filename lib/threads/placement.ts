/**
 * Where the pool runs a child, decided from the state of its threads alone (pool.ts acts on it).
 *
 * A child goes, in this order of preference:
 * 1. to an idle thread;
 * 2. to a new thread, while fewer than `threads` threads do work (threads whose children all
 *    wait do not count, so nesting never starves), and never more than {@link THREAD_CAP_FACTOR}
 *    times `threads` in all (threads that serve monitors, which work like actors, aside);
 * 3. at that cap, to the thread of one of its ancestors whose children all wait (for a nested
 *    branch, or a monitor call that runs one): it runs there once that ancestor awaits. Such a
 *    thread only ever holds one family of children, so ending it never harms another branch.
 * A thread that serves monitors to other threads takes no children, so no CPU-bound child can
 * stall calls to its monitors.
 */

/** However deep the nesting, the pool never starts more than this many times `threads` threads. */
const THREAD_CAP_FACTOR = 4;

/** What placement reads of a pool thread. */
export interface PlacementThread {
  /** The children it runs now. */
  readonly jobs: ReadonlyMap<number, WaitingState>;
  /** It serves monitors to other threads: it takes no children. */
  readonly hosting: boolean;
}

/** What placement reads of a child running on a thread: whether it waits. */
export interface WaitingState {
  /** How many of its own children it waits for. */
  readonly waitingOn: number;
  /** How many channel waits it is in. */
  readonly blockedOn: number;
}

/** What placement reads of the child to place: its ancestors, and the threads they run on. */
export interface PlacementChild<T> {
  readonly parent: PlacementChild<T> | undefined;
  readonly thread: T | undefined;
}

/** Placement's answer when the child should go to a thread that the pool starts for it. */
export const NEW_THREAD = 'a new thread';

/**
 * The thread `child` should run on now, {@link NEW_THREAD} when the pool should start one for
 * it, or undefined when it must wait in the queue. `limit` is the `threads` option.
 */
export function placeChild<T extends PlacementThread>(child: PlacementChild<T>, threads: readonly T[], limit: number): T | typeof NEW_THREAD | undefined {
  const idle = threads.find((thread) => thread.jobs.size === 0 && !thread.hosting);
  if (idle !== undefined) return idle;
  if (mayStartThread(threads, limit)) return NEW_THREAD;
  for (let ancestor = child.parent; ancestor !== undefined; ancestor = ancestor.parent) {
    const thread = ancestor.thread;
    if (thread !== undefined && allWaiting(thread)) return thread;
  }
  return undefined;
}

/** Whether the pool may start another thread: fewer than `limit` occupy a core, and fewer than the cap exist. */
function mayStartThread(threads: readonly PlacementThread[], limit: number): boolean {
  const working = threads.filter((thread) => !thread.hosting);
  return working.filter(countsAgainstLimit).length < limit && working.length < limit * THREAD_CAP_FACTOR;
}

/** A thread whose every child waits, for its own children or on a channel. */
function allWaiting(thread: PlacementThread): boolean {
  for (const record of thread.jobs.values()) if (record.waitingOn === 0 && record.blockedOn === 0) return false;
  return thread.jobs.size > 0;
}

/** A thread that occupies a core: it runs a child that is not waiting, or it is idle and may take one. */
function countsAgainstLimit(thread: PlacementThread): boolean {
  return thread.jobs.size === 0 || !allWaiting(thread);
}
