import { LinkedQueue, type QueueEntry } from './linked-queue';

/**
 * Where the pool runs each child, and when (pool.ts acts on it). It keeps the queue of waiting
 * children and files every thread by what it can take, updating both as children start, wait and
 * end, so that placing a child never looks through the queue or the threads: its cost does not
 * grow with how many children wait.
 *
 * A child goes, in this order of preference:
 * 1. to an idle thread: the one that fell idle last, so that one child at a time keeps to one
 *    thread, which is awake already, while the others may retire;
 * 2. to a new thread, while fewer than `threads` threads do work (threads whose children all
 *    wait do not count, so nesting never starves), and never more than {@link THREAD_CAP_FACTOR}
 *    times `threads` in all (threads that serve monitors, which work like actors, aside);
 * 3. at that cap, to the thread of one of its ancestors whose children all wait (for a nested
 *    branch, or a monitor call that runs one): it runs there once that ancestor awaits. Such a
 *    thread only ever holds one family of children, so ending it never harms another branch;
 * 4. ahead, to a thread that runs one child, to start there the moment that child ends with no
 *    round trip in between (up to {@link IN_FLIGHT_PER_THREAD} children per thread). A child sent ahead has not started: it is taken back (see
 *    {@link Withdraw}) and queued again, first, when the child before it starts to wait (it must
 *    not hold up what it may wait for), when its thread starts serving monitors or is ended, and
 *    when a thread falls idle while it still waits (so a CPU-bound child never waits behind a long
 *    one while a thread has nothing to do).
 * Children leave the queue in order; only a nested child (3) may pass those queued before it.
 * A thread that serves monitors to other threads takes no children, so no CPU-bound child can
 * stall calls to its monitors.
 */

/** However deep the nesting, the pool never starts more than this many times `threads` threads. */
export const THREAD_CAP_FACTOR = 4;

/**
 * How many children a thread holds at most: the one it runs, and those sent ahead to start after
 * it. Deep, because a thread that empties its children ahead before the main thread's refill
 * arrives idles for a whole round trip: with 4, 10,000 trivial children ran at a round trip per 4
 * children per thread, below piscina's throughput. Balance does not suffer: children go ahead to
 * the thread with the fewest, and a thread fallen idle takes back children held ahead elsewhere.
 */
export const IN_FLIGHT_PER_THREAD = 32;

/** Placement's answer when the child should go to a thread that the pool starts for it. */
export const NEW_THREAD = 'a new thread';

/** What placement keeps of a pool thread; the pool's thread records extend it. */
export class PlacedThread {
  /** The children it holds: those started there, and those sent ahead. */
  readonly children = new Set<PlacedChild>();
  /** The children sent ahead, in the order they will start, behind its one started child. */
  readonly ahead: PlacedChild[] = [];
  /** How many of its started children run, waiting neither for their own children nor on a channel. */
  running = 0;
  /** It serves monitors to other threads: it takes no children. */
  hosting = false;
  /** It ended, or is ending: it takes no children. */
  gone = false;
  /** Queued descendants of its children: while its children all wait, they may run here (rule 3). */
  readonly family = new LinkedQueue<PlacedChild>();
  /** Where placement filed it last: what it could take then. */
  filed: Filing = UNFILED;

  /** How many of its children have started. */
  get started(): number {
    return this.children.size - this.ahead.length;
  }
}

/** What placement keeps of a child; the pool's records extend it. */
export class PlacedChild {
  /** The thread it runs on or was sent ahead to; undefined while queued. */
  thread: PlacedThread | undefined = undefined;
  /** Sent ahead to its thread: it has not started there, as far as this thread knows. */
  ahead = false;
  /** How many of its own children it waits for: while any, it does not hold its thread. */
  waitingOn = 0;
  /** How many channel waits it is in: while any, it does not hold its thread either. */
  blockedOn = 0;
  /** Its places in the queue and in its ancestors' threads' families while queued. */
  queued: readonly QueueEntry<PlacedChild>[] | undefined = undefined;

  /** @param parent - the child whose branch (or monitor call) added it, which waits for it meanwhile */
  constructor(readonly parent: PlacedChild | undefined) {}

  /** It waits, for its own children or on a channel: it does not hold its thread. */
  get waiting(): boolean {
    return this.waitingOn > 0 || this.blockedOn > 0;
  }
}

/**
 * Takes back a child sent ahead, if its thread has not started it: true when taken back (it will
 * never run there), false when the thread started it first. The pool decides with its thread
 * through shared memory, at once, whatever the thread is busy with.
 */
export type Withdraw = (child: PlacedChild) => boolean;

/** Where a child goes next: to a thread now or ahead, or to a thread the pool starts for it. */
export interface Placing {
  readonly child: PlacedChild;
  readonly thread: PlacedThread | typeof NEW_THREAD;
  readonly ahead: boolean;
}

const enum Kind {
  /** Hosting, or gone: it takes nothing and counts for nothing. */
  None,
  Idle,
  /** Its started children all wait. */
  Waiting,
  Busy,
}

interface Filing {
  readonly kind: Kind;
  /** How many children it holds ahead, when it may take one more ahead; else -1. */
  readonly room: number;
  /** Filed among the waiting threads with queued family (rule 3). */
  readonly nestable: boolean;
  /** Filed among the threads holding children ahead. */
  readonly holdsAhead: boolean;
}

const UNFILED: Filing = { kind: Kind.None, room: -1, nestable: false, holdsAhead: false };

export class Placement {
  readonly #queue = new LinkedQueue<PlacedChild>();
  readonly #idle = new Set<PlacedThread>();
  /** The thread that fell idle last, while it is idle (a thread that ends is not kept): the first choice (rule 1). */
  #lastIdle: PlacedThread | undefined = undefined;
  /** Threads whose children all wait, with queued descendants that may run there. */
  readonly #nestable = new Set<PlacedThread>();
  /** Busy threads that may take a child ahead, by how many they hold ahead already. */
  readonly #room: readonly Set<PlacedThread>[];
  /** {@link IN_FLIGHT_PER_THREAD}, or what a test asks for. */
  readonly #inFlightPerThread: number;
  /** Threads that hold children ahead, which an idle thread may take. */
  readonly #holdingAhead = new Set<PlacedThread>();
  /** Threads that take children: not hosting, not gone. */
  #working = 0;
  /** Of those, the ones whose children all wait. */
  #waiting = 0;
  readonly #withdraw: Withdraw;

  /**
   * @param limit - the `threads` option
   * @param withdraw - takes back a child sent ahead (see {@link Withdraw})
   * @param inFlightPerThread - how many children a thread holds at most, its running one included
   */
  constructor(
    public limit: number,
    withdraw: Withdraw,
    inFlightPerThread = IN_FLIGHT_PER_THREAD,
  ) {
    this.#withdraw = withdraw;
    this.#inFlightPerThread = inFlightPerThread;
    this.#room = Array.from({ length: inFlightPerThread - 1 }, () => new Set<PlacedThread>());
  }

  /** How many children wait in the queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /** A new child, queued behind the others; its parent waits for it meanwhile. */
  add(child: PlacedChild): void {
    const parent = child.parent;
    if (parent !== undefined) this.#changeWait(parent, () => parent.waitingOn++);
    this.#enqueue(child, false);
  }

  /**
   * Where the next child goes, or undefined when none can go anywhere now. Nothing changes until
   * the pool calls {@link assign}, except that a thread fallen idle may take back a child sent
   * ahead elsewhere (queued again, first, for that thread to take).
   */
  next(): Placing | undefined {
    for (;;) {
      const head = this.#queue.first;
      if (head !== undefined) {
        const idle = this.#lastIdle ?? firstOf(this.#idle);
        if (idle !== undefined) return { child: head, thread: idle, ahead: false };
        if (this.#mayStartThread()) return { child: head, thread: NEW_THREAD, ahead: false };
      }
      const nestable = firstOf(this.#nestable);
      if (nestable !== undefined) return { child: nestable.family.first as PlacedChild, thread: nestable, ahead: false };
      if (head !== undefined) {
        for (const room of this.#room) {
          const thread = firstOf(room);
          if (thread !== undefined) return { child: head, thread, ahead: true };
        }
        return undefined;
      }
      // Nothing queued: an idle thread takes a child that waits ahead on a busy one.
      const holding = this.#idle.size > 0 ? firstOf(this.#holdingAhead) : undefined;
      if (holding === undefined) return undefined;
      this.#takeBack(holding, holding.ahead.length - 1);
    }
  }

  /** A thread the pool started (for {@link NEW_THREAD}): it takes children from now on. */
  addThread(thread: PlacedThread): void {
    this.#refile(thread);
  }

  /** The pool sends `child` to `thread`, to start now or ahead, as {@link next} said. */
  assign(child: PlacedChild, thread: PlacedThread, ahead: boolean): void {
    this.#dequeue(child);
    child.thread = thread;
    child.ahead = ahead;
    thread.children.add(child);
    if (ahead) thread.ahead.push(child);
    else if (!child.waiting) thread.running++;
    this.#refile(thread);
  }

  /** A child ended, wherever it was (queued, ahead, started): its thread and its parent let go of it. */
  leave(child: PlacedChild): void {
    this.#dequeue(child);
    const thread = child.thread;
    if (thread !== undefined) {
      this.#detach(child);
      // The child sent ahead behind the one that ended has started in its place.
      if (thread.started === 0 && thread.ahead.length > 0) this.#promote(thread.ahead[0] as PlacedChild);
      this.#refile(thread);
    }
    const parent = child.parent;
    if (parent !== undefined) this.#changeWait(parent, () => parent.waitingOn--);
  }

  /** A child starts (+1) or stops (-1) waiting on a channel. */
  blocked(child: PlacedChild, delta: 1 | -1): void {
    this.#changeWait(child, () => (child.blockedOn += delta));
  }

  /**
   * A queued child or one sent ahead was cancelled: true when it left for good and never runs,
   * false when its thread started it first (its thread sees the cancel then).
   */
  cancel(child: PlacedChild): boolean {
    if (child.queued !== undefined) {
      this.#dequeue(child);
      return true;
    }
    const thread = child.thread;
    if (thread === undefined || !child.ahead) return false;
    if (!this.#withdraw(child)) {
      this.#promote(child);
      this.#refile(thread);
      return false;
    }
    this.#detach(child);
    child.thread = undefined;
    this.#refile(thread);
    return true;
  }

  /** The thread serves monitors to other threads now (or no longer): it takes no children meanwhile. */
  setHosting(thread: PlacedThread, hosting: boolean): void {
    thread.hosting = hosting;
    if (hosting) this.#takeBackAll(thread);
    this.#refile(thread);
  }

  /**
   * The thread ends: it takes nothing any more, and the children it held ahead and had not started
   * are queued again, first (or, when `requeue` is false, returned, for the pool to cancel).
   */
  removeThread(thread: PlacedThread, requeue: boolean): PlacedChild[] {
    const withdrawn: PlacedChild[] = [];
    for (let index = thread.ahead.length - 1; index >= 0; index--) {
      const child = thread.ahead[index] as PlacedChild;
      if (!this.#withdraw(child)) continue;
      this.#detach(child);
      child.thread = undefined;
      if (requeue) this.#enqueue(child, true);
      else withdrawn.unshift(child);
    }
    thread.gone = true;
    thread.family.drain();
    this.#refile(thread);
    return withdrawn;
  }

  /** Empties the queue (the pool shuts down); returns the children it held, first first. */
  drain(): PlacedChild[] {
    const children = this.#queue.drain();
    for (const child of children) this.#dequeue(child);
    return children;
  }

  #mayStartThread(): boolean {
    return this.#working - this.#waiting < this.limit && this.#working < this.limit * THREAD_CAP_FACTOR;
  }

  /** Queues a child at the back (new) or the front (taken back), and in its ancestors' threads' families. */
  #enqueue(child: PlacedChild, first: boolean): void {
    const entries = [first ? this.#queue.unshift(child) : this.#queue.push(child)];
    const families = new Set<PlacedThread>();
    for (let ancestor = child.parent; ancestor !== undefined; ancestor = ancestor.parent) {
      const thread = ancestor.thread;
      if (thread === undefined || thread.gone || families.has(thread)) continue;
      families.add(thread);
      entries.push(first ? thread.family.unshift(child) : thread.family.push(child));
      if (thread.family.size === 1) this.#refile(thread);
    }
    child.queued = entries;
  }

  #dequeue(child: PlacedChild): void {
    const entries = child.queued;
    if (entries === undefined) return;
    child.queued = undefined;
    for (const entry of entries) {
      const queue = entry.queue;
      if (queue === undefined) continue;
      queue.remove(entry);
      // A family queue of a thread that emptied: the thread may leave the nestable ones.
      if (queue !== this.#queue && queue.size === 0) this.#refileFamilyOwner(child, queue);
    }
  }

  /** The ancestor thread whose family queue `queue` is. */
  #refileFamilyOwner(child: PlacedChild, queue: LinkedQueue<PlacedChild>): void {
    for (let ancestor = child.parent; ancestor !== undefined; ancestor = ancestor.parent) {
      if (ancestor.thread?.family === queue) {
        this.#refile(ancestor.thread);
        return;
      }
    }
  }

  /** Takes `child` off its thread's books (it stays pointing at the thread). */
  #detach(child: PlacedChild): void {
    const thread = child.thread as PlacedThread;
    if (!thread.children.delete(child)) return;
    if (child.ahead) {
      thread.ahead.splice(thread.ahead.indexOf(child), 1);
      child.ahead = false;
    } else if (!child.waiting) thread.running--;
  }

  /** A child sent ahead started on its thread. */
  #promote(child: PlacedChild): void {
    const thread = child.thread as PlacedThread;
    if (!child.ahead) return;
    thread.ahead.splice(thread.ahead.indexOf(child), 1);
    child.ahead = false;
    if (!child.waiting) thread.running++;
  }

  /** Changes how a child waits, and whether it holds its thread with that. */
  #changeWait(child: PlacedChild, change: () => void): void {
    const thread = child.thread;
    // A child that waits for something has started, whatever its thread's news said so far.
    if (child.ahead && thread !== undefined) this.#promote(child);
    const before = child.waiting;
    change();
    const after = child.waiting;
    if (thread === undefined || before === after || !thread.children.has(child)) return;
    thread.running += after ? -1 : 1;
    // What waits behind a child that waits might be what it waits for: it goes elsewhere.
    if (after) this.#takeBackAll(thread);
    this.#refile(thread);
  }

  #takeBackAll(thread: PlacedThread): void {
    for (let index = thread.ahead.length - 1; index >= 0; index--) this.#takeBack(thread, index);
  }

  /** Takes back the child `index` ahead on `thread` and queues it again, first; or, if it started, counts it as started. */
  #takeBack(thread: PlacedThread, index: number): void {
    const child = thread.ahead[index] as PlacedChild;
    if (this.#withdraw(child)) {
      this.#detach(child);
      child.thread = undefined;
      this.#enqueue(child, true);
    } else {
      this.#promote(child);
    }
    this.#refile(thread);
  }

  /** Files `thread` anew by what it can take now; constant time. */
  #refile(thread: PlacedThread): void {
    const kind = thread.gone || thread.hosting ? Kind.None : thread.children.size === 0 ? Kind.Idle : thread.running === 0 ? Kind.Waiting : Kind.Busy;
    const room = kind === Kind.Busy && thread.started === 1 && thread.ahead.length < this.#inFlightPerThread - 1 ? thread.ahead.length : -1;
    const nestable = kind === Kind.Waiting && thread.family.size > 0;
    const holdsAhead = kind !== Kind.None && thread.ahead.length > 0;
    const old = thread.filed;
    if (old.kind === kind && old.room === room && old.nestable === nestable && old.holdsAhead === holdsAhead) return;
    if (old.kind === Kind.Idle) this.#idle.delete(thread);
    if (kind !== Kind.Idle && this.#lastIdle === thread) this.#lastIdle = undefined;
    if (old.kind === Kind.Waiting) this.#waiting--;
    if (old.kind !== Kind.None) this.#working--;
    if (old.room >= 0) this.#room[old.room]?.delete(thread);
    if (old.nestable) this.#nestable.delete(thread);
    if (old.holdsAhead) this.#holdingAhead.delete(thread);
    if (kind === Kind.Idle) {
      this.#idle.add(thread);
      this.#lastIdle = thread;
    }
    if (kind === Kind.Waiting) this.#waiting++;
    if (kind !== Kind.None) this.#working++;
    if (room >= 0) this.#room[room]?.add(thread);
    if (nestable) this.#nestable.add(thread);
    if (holdsAhead) this.#holdingAhead.add(thread);
    thread.filed = { kind, room, nestable, holdsAhead };
  }
}

function firstOf<T>(set: ReadonlySet<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}
