import { performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { thisThread } from '../runtime';
import { threadLiveness } from '../threads/thread-liveness';
import { primitiveRoom, readValue, writePrimitive, type Primitive, type ValueBytes } from './value-bytes';

/**
 * A channel's values in shared memory: a ring of slots, one per value not yet taken, and a log of
 * the values' bytes, in one SharedArrayBuffer that every thread holding the channel maps. Any
 * thread puts and takes here directly, one at a time under a lock in the same memory, so the
 * ring is one queue whichever thread touches it: first in, first out, each value taken once.
 *
 * A slot holds a value's bytes (INLINE: an offset and a length in the log) or the number of a
 * value kept by the channel's core on its own thread (KEPT: a value that cannot be written as
 * bytes, or does not fit in the log). Only the core takes a KEPT value.
 *
 * Every change of the ring adds one to VERSION, which the core waits on (Atomics.waitAsync) for
 * as long as it says so in WAITERS. Puts and gets wait on a word of their side: a put that found
 * the ring full on ROOM_VERSION, which every change that may give it room adds one to (a take,
 * a close, a change of the values pending in the core), and a get that found it empty on
 * VALUE_VERSION, which every change that may give it a value adds one to (a put, a close, a
 * change of the pending values). A put or get adds one to its side's sleepers (PUT_SLEEPERS,
 * GET_SLEEPERS) before each sleep, reading its side's version after that and before looking at
 * the ring, so no change between the two is missed. A change wakes a side (Atomics.notify) only
 * when it has sleepers, and takes their count back to zero as it does: the changes that follow,
 * until someone sleeps again, cost no wake-up, and a put never wakes the other puts. A sleeper
 * counted but woken by something else leaves its count behind, which costs one wake-up that
 * finds nobody, never one missed.
 *
 * The log is written in the order the slots are, and read in the same order, so it is a circle:
 * LOG_HEAD is where the oldest value's bytes start, LOG_TAIL where the next ones go; a value that
 * does not fit before the end goes at the start, the end left unused until the values before it
 * are taken.
 */

const LOCK = 0;
const VERSION = 1;
const WAITERS = 2;
const CLOSED = 3;
/** Threads sleeping on the lock. */
const LOCK_SLEEPERS = 4;
/** The oldest slot and the number of values, in one word: `(head << 16) | count`, so one store commits a put or a take. */
const STATE = 5;
const LOG_HEAD = 6;
const LOG_TAIL = 7;
const LOG_VALUES = 8;
const PENDING = 9;
/** Puts that went to sleep since the last wake-up of their side (see the header). */
const PUT_SLEEPERS = 10;
const GET_EDGES = 11;
const PUT_EDGES = 12;
/** Gets that went to sleep since the last wake-up of their side. */
const GET_SLEEPERS = 13;
const ROOM_VERSION = 14;
const VALUE_VERSION = 15;
const HEADER_INTS = 16;
const SLOT_INTS = 3;

/** A slot holds the value's bytes in the log. */
export const INLINE = 0;
/** A slot holds the number of a value the core keeps. */
export const KEPT = 1;

/** More slots than this, and a channel's further values wait in its core (see channel-core.ts); head and count fit in {@link STATE}. */
const MOST_SLOTS = 32_768;
/** Bytes of log per slot, within the bounds below: numbers and short strings take 9 to 30. */
const LOG_BYTES_PER_SLOT = 64;
const LEAST_LOG_BYTES = 4096;
const MOST_LOG_BYTES = 1 << 20;
/** The longest a waiter goes without looking at the ring again. */
const RECHECK_MS = 50;
/** Tries of the lock before sleeping on it: it is held for a copy of a few bytes. */
const SPINS = 64;
/** The longest sleep on the lock between looks at whether its holder died. */
const LOCK_SLEEP_MS = 20;
/**
 * How long one holder may keep the lock before it is taken over when its death cannot be told
 * (see {@link Ring.lock}). The lock is held for microseconds, with no user code: only a thread
 * stopped in the middle (terminated, out of memory) or stopped in a debugger holds it longer.
 */
const LOCK_BREAK_MS = 30_000;
/** How long the main thread waits for a holder it has begun to terminate before it takes it for stopped. */
const ENDING_GRACE_MS = 1_000;
/** What a change may give: room to a put, a value to a get, or either. */
const ROOM = 1;
const VALUE = 2;
const BOTH = ROOM | VALUE;

/** Set in the lock word when the holder is not in the table of live threads. */
const UNLISTED = 0x40000000;

/** A value the core keeps, found in the oldest slot. */
export class Kept {
  constructor(readonly id: number) {}
}

/** What a take found in the oldest slot: a primitive as itself, another value's bytes, or the number of a value the core keeps. */
export type Taken = Primitive | ValueBytes | Kept;

export class Ring {
  readonly slots: number;
  readonly #ints: Int32Array;
  readonly #log: Buffer;
  /** The log again, for the numbers in it (written unaligned). */
  readonly #view: DataView;
  /** What this thread writes in the lock word while it holds it; found on first use. */
  #me = 0;

  /** A new ring for a channel of `capacity`. */
  static create(capacity: number): Ring {
    const slots = Math.min(capacity, MOST_SLOTS);
    const logBytes = Math.min(MOST_LOG_BYTES, Math.max(LEAST_LOG_BYTES, slots * LOG_BYTES_PER_SLOT));
    return new Ring(new SharedArrayBuffer((HEADER_INTS + slots * SLOT_INTS) * 4 + logBytes), capacity);
  }

  /** The ring in `memory`, made by {@link Ring.create} for the same capacity on any thread. */
  constructor(
    readonly memory: SharedArrayBuffer,
    /** The channel's capacity: above {@link slots}, the values beyond them wait in the core. */
    readonly capacity: number,
  ) {
    this.slots = Math.min(capacity, MOST_SLOTS);
    const logStart = (HEADER_INTS + this.slots * SLOT_INTS) * 4;
    this.#ints = new Int32Array(memory, 0, HEADER_INTS + this.slots * SLOT_INTS);
    this.#log = Buffer.from(memory, logStart);
    this.#view = new DataView(memory, logStart);
  }

  /**
   * Takes the lock. Every other method but {@link version}, {@link hasWaiters}, {@link wake} and
   * the counters needs it held.
   *
   * The lock word names its holder (its thread, see {@link holderCode}), because a holder can
   * stop in the middle: a worker terminated (a child past its grace period) or out of memory
   * never lets go, and every thread would then wait for it for ever. Such a lock is taken over
   * once its holder is known dead (threads/thread-liveness.ts: the main thread strikes a worker
   * off when it has stopped), and the ring repaired (see {@link #repair}); a holder that cannot
   * be told dead (a worker not in the table, or any worker while the main thread waits, as the
   * main thread hears of deaths only between tasks) is taken over after {@link LOCK_BREAK_MS},
   * or {@link ENDING_GRACE_MS} when the main thread has begun to terminate it.
   * The main thread's own hold is never taken over: when it ends, the process does.
   */
  lock(): void {
    const ints = this.#ints;
    const me = this.#me || (this.#me = holderCode());
    let held = Atomics.compareExchange(ints, LOCK, 0, me);
    if (held === 0) return;
    for (let spin = 0; spin < SPINS; spin++) {
      held = Atomics.compareExchange(ints, LOCK, 0, me);
      if (held === 0) return;
    }
    let seen = 0;
    let since = 0;
    for (;;) {
      held = Atomics.compareExchange(ints, LOCK, 0, me);
      if (held === 0) return;
      const now = performance.now();
      // Another holder (or the same thread again): its own hold is timed from now.
      if (held !== seen) {
        seen = held;
        since = now;
      }
      if (holderDied(held, now - since) && Atomics.compareExchange(ints, LOCK, held, me) === held) {
        this.#repair();
        return;
      }
      Atomics.add(ints, LOCK_SLEEPERS, 1);
      Atomics.wait(ints, LOCK, held, LOCK_SLEEP_MS);
      Atomics.sub(ints, LOCK_SLEEPERS, 1);
    }
  }

  /** Lets go of the lock, unless it was taken over meanwhile (it then belongs to the thread that did). */
  unlock(): void {
    const ints = this.#ints;
    if (Atomics.compareExchange(ints, LOCK, this.#me, 0) !== this.#me) return;
    if (Atomics.load(ints, LOCK_SLEEPERS) > 0) Atomics.notify(ints, LOCK, 1);
  }

  /**
   * Makes the ring whole after a holder died in the middle. A put or a take changes the values
   * the ring holds by one store of {@link STATE}, after the slot and its bytes are written, so
   * the slots are whole whenever the holder stopped: what may be half done is the log's
   * bookkeeping (where its bytes start and end, how many values it holds), rebuilt here from
   * the slots. A take the dead thread made took its value with it: its get never returned.
   */
  #repair(): void {
    const ints = this.#ints;
    const head = this.#head();
    const count = this.count;
    let values = 0;
    let start = 0;
    let end = 0;
    for (let index = 0; index < count; index++) {
      const at = HEADER_INTS + ((head + index) % this.slots) * SLOT_INTS;
      if (ints[at] !== INLINE) continue;
      if (values === 0) start = ints[at + 1] as number;
      end = (ints[at + 1] as number) + (ints[at + 2] as number);
      values++;
    }
    ints[LOG_VALUES] = values;
    ints[LOG_HEAD] = start;
    ints[LOG_TAIL] = end;
    this.#changed(BOTH);
  }

  get count(): number {
    return (this.#ints[STATE] as number) & 0xffff;
  }

  #head(): number {
    return (this.#ints[STATE] as number) >>> 16;
  }

  get closed(): boolean {
    return this.#ints[CLOSED] === 1;
  }

  close(): void {
    this.#ints[CLOSED] = 1;
    this.#changed(BOTH);
  }

  /** How many values wait in the core behind the ring: while any do, nobody else puts into the ring. */
  get pending(): number {
    return this.#ints[PENDING] as number;
  }

  set pending(count: number) {
    if (this.#ints[PENDING] === count) return;
    this.#ints[PENDING] = count;
    // Whether values are pending decides where a put or a get goes: both sides look again.
    this.#changed(BOTH);
  }

  /**
   * How many waits of `side` in the core are edges of the wait-for graph now. While a get's is,
   * puts go through the core, and while a put's is, gets do: the core ends such a wait in the
   * same step that gives it its value or room, so the graph never shows a wait that a value in
   * the ring has already ended (which a probe could take for a cycle). Read under the lock; the
   * core counts without it, before it looks at the ring under the lock to decide to wait.
   */
  edges(side: 'put' | 'get'): number {
    return Atomics.load(this.#ints, side === 'get' ? GET_EDGES : PUT_EDGES);
  }

  countEdge(side: 'put' | 'get', change: 1 | -1): void {
    Atomics.add(this.#ints, side === 'get' ? GET_EDGES : PUT_EDGES, change);
  }

  /** The kind of the oldest slot; the ring must hold a value. */
  oldestKind(): number {
    return this.#ints[HEADER_INTS + this.#head() * SLOT_INTS] as number;
  }

  /** Writes a value's bytes into a free slot; false when no slot is free or the log has no room for them. */
  putBytes(bytes: Uint8Array): boolean {
    if (this.count >= this.slots) return false;
    const offset = this.#allocate(bytes.length);
    if (offset < 0) return false;
    this.#log.set(bytes, offset);
    this.#fill(INLINE, offset, bytes.length);
    return true;
  }

  /** Writes a primitive value as itself into a free slot (value-bytes.ts); false when no slot is free or the log has no room for it. */
  putPrimitive(value: Primitive): boolean {
    if (this.count >= this.slots) return false;
    const offset = this.#allocate(primitiveRoom(value));
    if (offset < 0) return false;
    const length = writePrimitive(this.#log, this.#view, offset, value);
    // Room was made for the longest it could be: the log ends where it does end.
    this.#ints[LOG_TAIL] = offset + length;
    this.#fill(INLINE, offset, length);
    return true;
  }

  /** Puts the number of a value the core keeps into a free slot; false when none is free. */
  putKept(id: number): boolean {
    if (this.count >= this.slots) return false;
    this.#fill(KEPT, id, 0);
    return true;
  }

  /** Takes the oldest value; the ring must hold one. */
  take(): Taken {
    const ints = this.#ints;
    const head = this.#head();
    const at = HEADER_INTS + head * SLOT_INTS;
    const kind = ints[at] as number;
    const offset = ints[at + 1] as number;
    const length = ints[at + 2] as number;
    // Read (a primitive) or copied out (other bytes) before the slot is given up: the log's bytes are written over once the lock is let go.
    const taken = kind === INLINE ? readValue(this.#log, this.#view, offset, length) : new Kept(offset);
    // The take, in one store (see #repair).
    ints[STATE] = (((head + 1) % this.slots) << 16) | (this.count - 1);
    this.#changed(ROOM);
    if (kind !== INLINE) return taken;
    ints[LOG_VALUES] = (ints[LOG_VALUES] as number) - 1;
    if (ints[LOG_VALUES] === 0) {
      ints[LOG_HEAD] = 0;
      ints[LOG_TAIL] = 0;
    } else ints[LOG_HEAD] = offset + length;
    return taken;
  }

  /** The number of changes so far, read without the lock. */
  version(): number {
    return Atomics.load(this.#ints, VERSION);
  }

  /** Counts a put (`'put'`, for room) or a get (`'get'`, for a value) about to sleep: before it reads {@link sideVersion} to wait (see the header). */
  sleeping(side: 'put' | 'get'): void {
    Atomics.add(this.#ints, side === 'put' ? PUT_SLEEPERS : GET_SLEEPERS, 1);
  }

  /** The number of changes so far that may let a put (`'put'`) or a get (`'get'`) through; read without the lock. */
  sideVersion(side: 'put' | 'get'): number {
    return Atomics.load(this.#ints, side === 'put' ? ROOM_VERSION : VALUE_VERSION);
  }

  /** Says whether the core waits for changes: set it before reading {@link version} to wait. */
  setWaiters(waiting: boolean): void {
    Atomics.store(this.#ints, WAITERS, waiting ? 1 : 0);
  }

  /**
   * Wakes whoever sleeps until a change: call it after unlocking, when a change was made. A put
   * wakes only the gets (`'get'`), a take only the puts (`'put'`); any other change both.
   */
  wake(side: 'put' | 'get' | 'both' = 'both'): void {
    const ints = this.#ints;
    if (Atomics.load(ints, WAITERS) === 1) Atomics.notify(ints, VERSION);
    if (side !== 'get' && Atomics.load(ints, PUT_SLEEPERS) > 0 && Atomics.exchange(ints, PUT_SLEEPERS, 0) > 0) Atomics.notify(ints, ROOM_VERSION);
    if (side !== 'put' && Atomics.load(ints, GET_SLEEPERS) > 0 && Atomics.exchange(ints, GET_SLEEPERS, 0) > 0) Atomics.notify(ints, VALUE_VERSION);
  }

  /**
   * A promise that resolves when the version is no longer `seen`, or after `timeoutMs` (at most
   * {@link RECHECK_MS}: a wake-up that never came, its thread having died between its change and
   * its wake, then costs a moment, never a value); undefined when it is no longer `seen` already.
   */
  changeFrom(seen: number, timeoutMs = RECHECK_MS, side?: 'put' | 'get'): Promise<unknown> | undefined {
    const word = side === undefined ? VERSION : side === 'put' ? ROOM_VERSION : VALUE_VERSION;
    const wait = Atomics.waitAsync(this.#ints, word, seen, Math.min(timeoutMs, RECHECK_MS));
    return wait.async ? wait.value : undefined;
  }

  #fill(kind: number, offset: number, length: number): void {
    const ints = this.#ints;
    const head = this.#head();
    const at = HEADER_INTS + ((head + this.count) % this.slots) * SLOT_INTS;
    ints[at] = kind;
    ints[at + 1] = offset;
    ints[at + 2] = length;
    // The put, in one store, once its slot is whole (see #repair).
    ints[STATE] = (head << 16) | (this.count + 1);
    if (kind === INLINE) ints[LOG_VALUES] = (ints[LOG_VALUES] as number) + 1;
    this.#changed(VALUE);
  }

  /** Where `length` bytes go in the log, or -1 when they do not fit now. */
  #allocate(length: number): number {
    const ints = this.#ints;
    const size = this.#log.length;
    if (length === 0 || length > size) return -1;
    let offset: number;
    if (ints[LOG_VALUES] === 0) offset = 0;
    else {
      const head = ints[LOG_HEAD] as number;
      const tail = ints[LOG_TAIL] as number;
      // Not wrapped, the used bytes are head..tail: room after the tail, or else before the head.
      if (tail > head) offset = size - tail >= length ? tail : length <= head ? 0 : -1;
      // Wrapped, the free bytes are tail..head.
      else offset = head - tail >= length ? tail : -1;
    }
    if (offset >= 0) ints[LOG_TAIL] = offset + length;
    return offset;
  }

  #changed(sides: number): void {
    const ints = this.#ints;
    Atomics.add(ints, VERSION, 1);
    if ((sides & ROOM) !== 0) Atomics.add(ints, ROOM_VERSION, 1);
    if ((sides & VALUE) !== 0) Atomics.add(ints, VALUE_VERSION, 1);
  }
}

/** What this thread writes in a lock word it holds: its thread id + 1, {@link UNLISTED} set when its death could not be told. */
function holderCode(): number {
  if (isMainThread) return 1;
  const id = thisThread().id;
  // A worker safethread did not start (its id unknown here) is never listed: only a timeout frees its lock.
  if (id !== 0 && threadLiveness().listThisThread()) return id + 1;
  return ((threadId + 1) & (UNLISTED - 1)) | UNLISTED;
}

/** Whether the holder named by lock word `held`, seen holding it for `heldMs`, has stopped for good. */
function holderDied(held: number, heldMs: number): boolean {
  // The main thread: when it ends, the process does.
  if (held === 1) return false;
  if ((held & UNLISTED) !== 0) return heldMs >= LOCK_BREAK_MS;
  const state = threadLiveness().stateOf(held - 1);
  if (state === 'dead') return true;
  // A worker waits until the main thread has seen the holder stop. The main thread hears of that
  // only between tasks, never while it waits here: a holder it has begun to end (terminated, which
  // takes effect within moments) is taken for dead after ENDING_GRACE_MS, any other after LOCK_BREAK_MS.
  if (!isMainThread) return false;
  return heldMs >= (state === 'ending' ? ENDING_GRACE_MS : LOCK_BREAK_MS);
}
