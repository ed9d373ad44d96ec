import type { CancellationToken } from '../cancellation/cancellation-token';
import { CancellationSource } from '../cancellation/cancellation-source';
import { DefinitionError } from '../errors/definition-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { slot } from '../runtime';
import { knownObjects } from '../shareability/known-objects';
import { ambientContext, currentToken, runInContext } from '../cancellation/current-token';
import { CancelledError } from '../errors/cancelled-error';
import { currentCall } from '../deadlock/monitor-call';
import { passArguments } from '../shareability/boundary';
import { isTransfer } from '../shareability/transfer';
import { decode, encode } from '../threads/serialize';
import { exportReference } from '../monitor/exported-monitors';
import type { MonitorEndpoint } from '../monitor/monitor-endpoint';
import { endpointOf } from '../monitor/reference';
import { RemoteMonitor, reviveReference } from '../monitor/remote-monitor';
import { codecs } from '../threads/codec-registry';
import { ChannelCore } from './channel-core';
import { INLINE, Ring } from './ring';
import { fromBytes, isPrimitive, toBytes, ValueBytes, type Primitive } from './value-bytes';

/*
 * How a channel carries values (the design; Channel below is what users see).
 *
 * Values live in shared memory: a ring of slots (ring.ts), one SharedArrayBuffer that travels
 * with the channel, so every thread holding it maps the same ring. A put writes the value's bytes
 * (value-bytes.ts: the value as the serializer encodes it for a message, special values as their
 * markers) into the next slot, and a get takes the oldest slot, each under the ring's lock: no
 * message, no round trip, whichever thread they run on. The ring is one queue, so its guarantees
 * are those of a locked queue: values come out in the order their puts wrote them (FIFO), each
 * slot is taken by exactly one get (under the lock, whatever the threads), and a put finds room
 * only while fewer than `capacity` values are in it (bounded). A get returns the value it took;
 * nothing is taken ahead of a get (no prefetch), so a thread that dies loses nothing but what its
 * own gets had already returned.
 *
 * The core (channel-core.ts), a concurrent monitor on the thread that made the channel, is the
 * slow side:
 * - It learns the turns on each side for the wait-for graph, as before: the first put and the
 *   first get of each monitor turn on each thread go through it (ChannelEnd's KnownTurns), so
 *   it knows the only producer or consumer, or that there are several, exactly as when every put
 *   and get went through it.
 * - A put or get that finds the ring full or empty waits on its own thread, on the ring's
 *   version (Atomics.waitAsync), trying again after each change. It also waits in the core (a
 *   `put('room')` or `get('signal')` call) once a turn of the event loop has passed, or
 *   REMOTE_SHADOW_AFTER_MS when the core is on another thread: that wait is what dumpMonitors()
 *   and the SAFETHREAD_CHANNEL_WAIT exit warning show, and what the deadlock detector sees as an
 *   edge; a deadlock verdict, its token or its thread's death end it, and the put or get with it,
 *   having put or taken nothing. It never moves a value: it ends when the ring may have changed
 *   for it, and the put or get tries again on its own thread. A put or get served on its own
 *   thread withdraws it.
 * - While a wait in the core is an edge of the graph (its other side is one turn), the puts (for
 *   a waiting get) or the gets (for a waiting put) of every thread go through the core, which
 *   ends the wait in the same step that brings its value or room (ring.ts, edges()): the graph
 *   never holds an edge that a value already in the ring has made stale, which a probe would
 *   take for a cycle (a producer turn that puts the value its consumer waits for, then calls
 *   the consumer's monitor, would get a false DeadlockError).
 * - A value that has no bytes (a token's or a channel's shared memory inside it, a transfer()),
 *   or whose bytes do not fit in the ring's log, goes through the core, which keeps it and puts
 *   its number in a KEPT slot, so it keeps its place; a get that finds a KEPT slot oldest asks the
 *   core, which takes it under the same lock.
 * - Values beyond the ring's slots (a capacity above 32,768) and puts through the core that wait
 *   for room are pending in the core, after the ring's values; while any are, puts go through
 *   the core too, so nothing overtakes them.
 * - close() sets the ring's closed flag under the lock: later puts fail at once on any thread;
 *   gets take what is left, then fail (ERR_CHANNEL_DRAINED).
 * Puts from one thread are done one after another, and so are gets (ChannelEnd's InOrder): an
 * unawaited put or get never overtakes an earlier one of its thread.
 *
 * Wake-ups: a put that fills a slot wakes the gets asleep on other threads, and a take the puts
 * (ring.ts), at once but only when one sleeps: the values or room that follow, until it sleeps
 * again, cost no wake-up, so a woken thread finds a batch while the other side goes on, as a raw
 * stream's consumer finds every message posted since it last looked. A waiter also looks again
 * every RECHECK_MS (ring.ts), so a wake-up lost with a thread that died between its change and
 * its wake costs a moment, never a value.
 *
 * Release: a channel crosses as its core's monitor reference and its ring memory. The core is
 * exported and released like any monitor (monitor/exported-monitors.ts: each thread's handles
 * hold the reference; when all are collected the owner is told, and a pool thread that exports
 * nothing takes children again or retires); the ring memory goes with the last handle and core.
 */

/**
 * Options of a channel's waits.
 *
 * @example
 * ```ts
 * const line = await lines.get({ token: CancellationToken.fromSignal(AbortSignal.timeout(1000)) });
 * ```
 */
export interface ChannelWaitOptions {
  /**
   * Ends the wait with a `CancelledError` when cancelled; a value not yet put or taken is not.
   * @default currentToken(): the running child's, call's or branch body's token
   */
  readonly token?: CancellationToken;
}

/**
 * A bounded queue between threads, for producers and consumers: `put` waits while it is full,
 * `get` while it is empty, and `close()` ends it (puts then fail; gets take what is left, then
 * fail; `for await` ends). A channel is shareable: pass it to children and monitors on any
 * thread, and each value it carries must be shareable too. Values come out in the order they
 * went in, each exactly once, however many producers and consumers there are.
 *
 * Waits end with a `CancelledError` when their token is cancelled, and are seen by the deadlock
 * detector when the channel's other side is one monitor turn: a consumer waiting for a value
 * that only a producer blocked on that consumer could put rejects with a `DeadlockError`.
 *
 * A wait does not keep the process alive. `dumpMonitors()` shows every wait, how long it has
 * lasted and why it may never end. When the process is about to exit with a wait pending (nothing
 * left could end it), a `SAFETHREAD_CHANNEL_WAIT` warning names it, instead of a silent exit with
 * the awaiting code never resumed. What is not reported, because it cannot be told from a wait
 * that will end: a wait while something keeps the process alive (a server, a timer, other work,
 * or the worker thread a channel made there lives on), since a consumer idle for hours is
 * normal. `dumpMonitors()` shows such a wait, with its age.
 *
 * @example
 * ```ts
 * const lines = new Channel<string>(100);
 * await branch((children) => {
 *   children.add(produceLines, lines);           // await lines.put(line) ... then await lines.close()
 *   children.add(async (input: Channel<string>) => {
 *     let count = 0;
 *     for await (const line of input) count += line.length;
 *     return count;
 *   }, lines);
 * });
 * ```
 */
export class Channel<T> implements AsyncIterable<T> {
  /** How many values it holds before `put` waits. */
  declare readonly capacity: number;

  /** @param capacity - how many values it holds before `put` waits: a whole number from 1 up */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new DefinitionError('ERR_INVALID_OPTION', 'new Channel(capacity)', 'capacity', 'a whole number from 1 up', String(capacity));
    }
    const ring = Ring.create(capacity);
    adopt(this, new ChannelCore(capacity, ring.memory), capacity, ring.memory);
  }

  /**
   * The channel for a core that arrived from another thread: the same channel, reached from here.
   * @internal
   */
  static revive<T>(core: object, capacity: number, memory: SharedArrayBuffer): Channel<T> {
    const channel = Object.create(Channel.prototype) as Channel<T>;
    adopt(channel, core, capacity, memory);
    return channel;
  }

  /** Adds a value, waiting while the channel is full; fails with `ChannelClosedError` once it is closed. */
  put(value: T, options: ChannelWaitOptions = {}): Promise<void> {
    return underToken(options.token, () => endOf(this).put(value));
  }

  /** Takes the oldest value, waiting while the channel is empty; fails with `ChannelClosedError` once it is closed and empty. */
  get(options: ChannelWaitOptions = {}): Promise<T> {
    return underToken(options.token, () => endOf(this).get() as Promise<T>);
  }

  /** Closes the channel. Closing twice is fine. */
  close(): Promise<void> {
    return endOf(this).close();
  }

  /** Takes values until the channel is closed and empty. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new ChannelIterator<T>(endOf(this));
  }
}

/** Makes `channel` the handle of `core`: frozen, self-protecting, and known to the serializer. */
function adopt(channel: Channel<unknown>, core: object, capacity: number, memory: SharedArrayBuffer): void {
  Object.defineProperty(channel, 'capacity', { value: capacity, enumerable: true });
  channelHandles().add(channel, { core, capacity, memory });
  knownObjects().addSelfProtecting(channel);
  Object.freeze(channel);
}

function endOf(channel: Channel<unknown>): ChannelEnd {
  const handle = channelHandles().find(channel) as ChannelHandle;
  return (handle.end ??= channelHandles().end(handle));
}

/**
 * A `for await` over a channel: each step a get, the end once the channel is closed and drained
 * (for good: a closed channel takes no more values). A step that finds a value settles with it
 * at once (ChannelEnd's `next`).
 */
class ChannelIterator<T> implements AsyncIterableIterator<T> {
  readonly #end: ChannelEnd;
  #over = false;

  constructor(end: ChannelEnd) {
    this.#end = end;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#over) return Promise.resolve(END);
    return this.#end.next() as Promise<IteratorResult<T, undefined>>;
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.#over = true;
    return Promise.resolve(END);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * The core (a monitor reference), capacity and ring memory behind each channel handle on this
 * thread, and the one end of each channel here, which every handle of it on this thread shares
 * (held weakly by the core reference: a channel dropped here lets its reference go, and with it
 * its hold on the core, see channel release in the header).
 */
class ChannelHandles {
  readonly #handles = new WeakMap<object, ChannelHandle>();
  readonly #ends = new WeakMap<object, ChannelEnd>();

  add(channel: object, handle: ChannelHandle): void {
    this.#handles.set(channel, handle);
  }

  find(channel: object): ChannelHandle | undefined {
    return this.#handles.get(channel);
  }

  end(handle: ChannelHandle): ChannelEnd {
    let end = this.#ends.get(handle.core);
    if (end === undefined) {
      const endpoint = endpointOf(handle.core) as MonitorEndpoint;
      end = new ChannelEnd(handle.core as ChannelCore, new Ring(handle.memory, handle.capacity), endpoint.label, endpoint instanceof RemoteMonitor);
      this.#ends.set(handle.core, end);
    }
    return end;
  }
}

interface ChannelHandle {
  readonly core: object;
  readonly capacity: number;
  readonly memory: SharedArrayBuffer;
  /** The end it was last found to share, kept so that each put and get need not look it up. */
  end?: ChannelEnd;
}

const channelHandles = slot('channel handles', () => new ChannelHandles());

/** Runs a wait under the given token instead of the ambient one. */
function underToken<R>(token: CancellationToken | undefined, wait: () => Promise<R>): Promise<R> {
  if (token === undefined) return wait();
  return runInContext({ ...ambientContext(), token }, wait);
}

knownObjects().addSelfProtectingClass(Channel);

// A channel crosses threads as its core, a monitor on the thread that made the channel. Only the
// start-up files import this module (a worker's when the first channel arrives), so it never loads
// while the decorators that define the core do.
codecs().register({
  kind: 'channel',
  encode(value) {
    const channel = channelHandles().find(value);
    if (channel === undefined) return undefined;
    const core = exportReference(endpointOf(channel.core) as MonitorEndpoint);
    return { kind: 'channel', core, capacity: channel.capacity, ring: channel.memory };
  },
  decode: (marker) => Channel.revive(reviveReference(marker.core), marker.capacity, marker.ring),
});

/**
 * One thread's end of a channel: puts and gets go straight to the ring when they can, wait on
 * their own thread when it is full or empty (the core seeing the wait, see the header), and go
 * through the core when a value cannot be written as bytes, the core keeps the values to take,
 * or the core has yet to learn the turn that makes them (the first put and the first get of
 * each turn here). Puts from this thread go one after another, and so do gets: a put or get made
 * while an earlier one still waits goes after it, never past it.
 *
 * A put or get that finds room or a value settles at once, with no await of its own: a primitive
 * value (value-bytes.ts) is written into the ring or read from it as itself, with no check, no
 * encoding and nothing made on the way; only a put or get that must wait, or go through the
 * core, pays for its place in line, its wait and its cancellation.
 */
class ChannelEnd {
  readonly #puts = new InOrder();
  readonly #gets = new InOrder();
  readonly #putters = new KnownTurns();
  readonly #getters = new KnownTurns();

  constructor(
    readonly core: ChannelCore,
    readonly ring: Ring,
    readonly label: string,
    /** Whether the core lives on another thread. */
    readonly remote: boolean,
  ) {}

  put(value: unknown): Promise<void> {
    if (isPrimitive(value)) {
      // Nothing to check, nothing to encode: written into the ring as itself when there is room.
      const turn = turnKey();
      try {
        currentToken().throwIfCancelled();
        if (this.#puts.idle && this.#putters.knows(turn) && this.#putInRing(value) === DONE) return DONE_ALREADY;
      } catch (error) {
        return Promise.reject(error);
      }
      return this.#putSlowly({ primitive: value }, turn);
    }
    let item: Item;
    try {
      const moved = isTransfer(value);
      // Checked as the core's call would check it, and before anything is put.
      if (!moved) passArguments('Channel.put', [value]);
      currentToken().throwIfCancelled();
      item = moved ? { value } : itemOf(value);
    } catch (error) {
      return Promise.reject(error);
    }
    const turn = turnKey();
    if (this.#puts.idle && this.#putters.knows(turn) && 'bytes' in item) {
      try {
        if (this.#putInRing(item.bytes) === DONE) return DONE_ALREADY;
      } catch (error) {
        discard(item);
        return Promise.reject(error);
      }
    }
    return this.#putSlowly(item, turn);
  }

  /** A put that must wait its turn here, wait for room, or go through the core. */
  #putSlowly(first: Item, turn: TurnKey): Promise<void> {
    let item = first;
    const turnPassed = new TurnPassed(this.remote);
    const putting = this.#puts.after(async () => {
      if (this.#putters.knows(turn) && !('value' in item)) {
        const data = 'bytes' in item ? item.bytes : item.primitive;
        if ((await this.#until(() => this.#putInRing(data), 'put', turnPassed)) === DONE) return;
      }
      const sent = item;
      // From here the core has the bytes, and counts them back if they never go in.
      item = { value: undefined };
      await ('bytes' in sent ? this.core.put('bytes', latin1(sent.bytes)) : this.core.put('value', 'primitive' in sent ? sent.primitive : sent.value));
      this.#putters.learned(turn);
    }, `${this.label}.put`);
    putting.catch(() => discard(item));
    return putting;
  }

  get(): Promise<unknown> {
    const turn = turnKey();
    if (this.#gets.idle && this.#getters.knows(turn)) {
      try {
        currentToken().throwIfCancelled();
        const taken = this.#take();
        if (taken !== BLOCKED && taken !== VIA_CORE) return Promise.resolve(taken);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#getSlowly(turn);
  }

  /**
   * The next step of a `for await` over the channel: the next value, or the end once it is closed
   * and drained. What {@link get} does, without a promise for the get and another for the step.
   */
  next(): Promise<IteratorResult<unknown, undefined>> {
    const turn = turnKey();
    if (this.#gets.idle && this.#getters.knows(turn)) {
      try {
        currentToken().throwIfCancelled();
        const taken = this.#take();
        if (taken !== BLOCKED && taken !== VIA_CORE) return Promise.resolve({ value: taken, done: false });
      } catch (error) {
        if (isDrained(error)) return Promise.resolve(END);
        return Promise.reject(error);
      }
    }
    return this.#getSlowly(turn).then(
      (value) => ({ value, done: false }),
      (error: unknown) => {
        if (isDrained(error)) return END;
        throw error;
      },
    );
  }

  #getSlowly(turn: TurnKey): Promise<unknown> {
    try {
      currentToken().throwIfCancelled();
    } catch (error) {
      return Promise.reject(error);
    }
    const turnPassed = new TurnPassed(this.remote);
    return this.#gets.after(async () => {
      if (this.#getters.knows(turn)) {
        const taken = await this.#until(() => this.#take(), 'get', turnPassed);
        if (taken !== VIA_CORE) return taken;
      }
      const value = await this.core.get();
      this.#getters.learned(turn);
      return value;
    }, `${this.label}.get`);
  }

  close(): Promise<void> {
    return this.core.close();
  }

  /**
   * Tries `attempt` again after each change of the ring until it is no longer {@link BLOCKED}.
   * Once `turnPassed` (a turn of the event loop since the put or get was made), it also waits in the core (`put('room')` or
   * `get('signal')`), so that the wait is seen there as any channel wait: a deadlock verdict or
   * the end of that wait's call ends this one, which has then put or taken nothing.
   *
   * Each sleep is counted (ring.ts) after an attempt found the ring full or empty, and followed by
   * one more attempt before it starts: a change made between the two is then either seen by that
   * attempt or wakes the sleep.
   */
  async #until<R>(attempt: () => R | typeof BLOCKED, side: 'put' | 'get', turnPassed: TurnPassed): Promise<R> {
    const ring = this.ring;
    const token = currentToken();
    /** Ends the current sleep: a change, the token, the shadow's end or the turn passing. */
    let wake: () => void = () => {};
    let cancelled: { readonly reason: unknown } | undefined;
    const stopCancel = token.onCancel((reason) => {
      cancelled = { reason };
      wake();
    });
    let shadow: Shadow | undefined;
    try {
      let result = attempt();
      for (;;) {
        if (result !== BLOCKED) return result;
        if (cancelled !== undefined) throw new CancelledError(cancelled.reason, `${this.label}.${side}`);
        if (shadow?.error !== undefined) throw shadow.error;
        if (shadow?.ended === true) shadow = undefined;
        if (shadow === undefined && turnPassed.passed) {
          shadow = this.#shadow(token, side);
          shadow.over.then(() => wake());
        }
        // Counted as sleeping before the version is read: a change after the read wakes the sleep.
        ring.sleeping(side);
        const seen = ring.sideVersion(side);
        result = attempt();
        if (result !== BLOCKED) return result;
        const changed = ring.changeFrom(seen, shadow === undefined ? turnPassed.remainingMs() : Infinity, side);
        if (changed === undefined) {
          result = attempt();
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          changed.then(() => resolve());
          if (shadow === undefined) turnPassed.onPass(resolve);
        });
        wake = () => {};
        result = attempt();
      }
    } finally {
      stopCancel();
      // Served here: its wait in the core must not stay behind as an edge of the graph.
      if (shadow !== undefined && !shadow.ended) shadow.source.cancel('served');
    }
  }

  /** The core's side of a wait on this thread: it ends when the ring may have changed for it, or fails it. */
  #shadow(token: CancellationToken, side: 'put' | 'get'): Shadow {
    const source = new CancellationSource(token);
    const wait = runInContext({ ...ambientContext(), token: source.token }, () => (side === 'put' ? this.core.put('room') : this.core.get('signal')));
    const shadow: Shadow = {
      source,
      ended: false,
      error: undefined,
      over: wait.then(
        () => {
          shadow.ended = true;
          // A long-lived token (a branch's) must not keep every finished wait's source.
          source.dispose();
        },
        (error: unknown) => {
          shadow.ended = true;
          shadow.error = error ?? new Error(`${this.label}.${side}: its wait failed`);
          source.dispose();
        },
      ),
    };
    return shadow;
  }

  /** Writes a value (a primitive, or another value's bytes) into the ring: {@link DONE}, {@link BLOCKED} while it is full, or undefined when the core must take it; throws once the channel is closed. */
  #putInRing(data: Uint8Array | Primitive): typeof DONE | typeof BLOCKED | undefined {
    const ring = this.ring;
    let outcome: typeof DONE | typeof BLOCKED | undefined;
    let closed = false;
    ring.lock();
    try {
      closed = ring.closed;
      // Values waiting in the core come first: while there are any, a put goes after them, there.
      if (closed || ring.pending > 0) outcome = undefined;
      // Full, unless the channel holds more than the ring: the core keeps the values beyond its slots.
      else if (ring.count >= ring.slots) outcome = ring.capacity > ring.slots ? undefined : BLOCKED;
      // A get waits in the core as an edge of the graph: the core gives it the value and ends the edge at once.
      else if (ring.edges('get') > 0) outcome = undefined;
      else outcome = (data instanceof Uint8Array ? ring.putBytes(data) : ring.putPrimitive(data)) ? DONE : undefined;
    } finally {
      ring.unlock();
    }
    if (closed) throw new ChannelClosedError('ERR_CHANNEL_CLOSED', this.label);
    if (outcome === DONE) ring.wake('get');
    return outcome;
  }

  /** Takes the oldest value from the ring when it holds its bytes; {@link BLOCKED} while it is empty; {@link VIA_CORE} when the core must serve the get; throws once closed and drained. */
  #take(): unknown {
    const ring = this.ring;
    let taken: unknown = VIA_CORE;
    let drained = false;
    ring.lock();
    try {
      if (ring.count > 0) {
        // A put waits in the core as an edge of the graph: the core takes this value and gives it room at once.
        if (ring.oldestKind() === INLINE && ring.edges('put') === 0) taken = ring.take();
      } else if (ring.pending === 0) {
        drained = ring.closed;
        taken = BLOCKED;
      }
    } finally {
      ring.unlock();
    }
    if (drained) throw new ChannelClosedError('ERR_CHANNEL_DRAINED', this.label);
    if (taken === BLOCKED || taken === VIA_CORE) return taken;
    ring.wake('put');
    return taken instanceof ValueBytes ? decode(fromBytes(taken.bytes)) : taken;
  }
}

/** The core's side of a wait on this thread (see ChannelEnd's #until). */
interface Shadow {
  readonly source: CancellationSource;
  readonly over: Promise<void>;
  ended: boolean;
  error: unknown;
}

/**
 * How long a put or get waits on its own thread before it also waits in a core on another thread.
 * Telling that core costs a message each way and a wake-up of its thread; most waits of a busy
 * channel last less (the other side is running or about to), and a wait that lasts is seen a
 * moment later, which a dump, a deadlock verdict or a warning can afford.
 */
const REMOTE_SHADOW_AFTER_MS = 20;

/**
 * Whether a put or get has waited long enough on its own thread to wait in the core too, counted
 * from the put or get itself. With the core on this thread, telling it costs nothing much, so
 * after one turn of the event loop (`setImmediate`), whoever looks at a dump after a turn finds
 * the wait there; with the core elsewhere, after {@link REMOTE_SHADOW_AFTER_MS}, which the wait
 * itself times (its sleeps end by then), so no timer is set for the many waits that last less.
 */
class TurnPassed {
  readonly #remote: boolean;
  readonly #since: number;
  #passed = false;
  #onPass: (() => void) | undefined;

  constructor(remote: boolean) {
    this.#remote = remote;
    this.#since = remote ? performance.now() : 0;
    if (!remote) setImmediate(() => this.#pass());
  }

  get passed(): boolean {
    if (!this.#passed && this.#remote && performance.now() - this.#since >= REMOTE_SHADOW_AFTER_MS) this.#passed = true;
    return this.#passed;
  }

  /** How long a sleep may last before the turn passes. */
  remainingMs(): number {
    if (!this.#remote || this.#passed) return Infinity;
    return Math.max(0, REMOTE_SHADOW_AFTER_MS - (performance.now() - this.#since));
  }

  /** Calls `then` when the turn passes on this thread (a remote core's: the sleep times it, see above). */
  onPass(then: () => void): void {
    if (!this.#remote && !this.#passed) this.#onPass = then;
  }

  #pass(): void {
    this.#passed = true;
    const then = this.#onPass;
    this.#onPass = undefined;
    then?.();
  }
}

const DONE = 'done';
const BLOCKED: unique symbol = Symbol('blocked');
/** A get that the core must serve: no symbol is ever a channel's value. */
const VIA_CORE: unique symbol = Symbol('via core');
/** What a put that found room returns: settled, it holds nothing of the put's. */
const DONE_ALREADY: Promise<void> = Promise.resolve();
const END: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

function isDrained(error: unknown): boolean {
  return error instanceof ChannelClosedError && error.code === 'ERR_CHANNEL_DRAINED';
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A value to put: a primitive written as itself, another value's bytes, or the value itself when only a message can carry it. */
type Item = { readonly primitive: Primitive } | { readonly bytes: Uint8Array } | { readonly value: unknown };

function itemOf(value: unknown): Item {
  const encoded = encode(value, []);
  const bytes = toBytes(encoded);
  if (bytes !== undefined) return { bytes };
  // Encoding counted the references inside as gone to another thread: decoding here counts them back.
  decode(encoded);
  return { value };
}

/**
 * Counts back the references inside a value that was encoded but never put (its put failed or
 * was cancelled): decoding them here is what taking them would have done.
 */
function discard(item: Item): void {
  if (!('bytes' in item)) return;
  try {
    decode(fromBytes(item.bytes));
  } catch {
    // Only the counts of its references are at stake: kept, they keep their monitors, which is safe.
  }
}

/** Which turn makes a put or get here: a monitor call's, or none. */
type TurnKey = number | 'none';

function turnKey(): TurnKey {
  return currentCall()?.id ?? 'none';
}

/**
 * The turns of this thread the core has learned as a producer (or consumer). The core needs to
 * see each turn only once, and nothing more once it has seen two: the side is then unknown for
 * good, whoever comes next.
 */
class KnownTurns {
  #known: TurnKey | 'several' | undefined;

  knows(turn: TurnKey): boolean {
    return this.#known === 'several' || this.#known === turn;
  }

  learned(turn: TurnKey): void {
    if (this.#known === undefined) this.#known = turn;
    else if (this.#known !== turn) this.#known = 'several';
  }
}

/**
 * Operations of one side of a thread's end, run one after another. One waiting its turn ends at
 * once when its token is cancelled; once started, it ends as the core says. One made while none
 * runs starts at once.
 */
class InOrder {
  #running = 0;
  #last: Promise<unknown> = DONE_ALREADY;

  /** Nothing is running or waiting: an operation may go ahead at once. */
  get idle(): boolean {
    return this.#running === 0;
  }

  after<R>(operation: () => Promise<R>, what: string): Promise<R> {
    const done = (): void => {
      this.#running--;
    };
    if (this.#running++ === 0) {
      const result = operation();
      this.#last = result.then(done, done);
      return result;
    }
    const token = currentToken();
    const previous = this.#last;
    const result = new Promise<R>((resolve, reject) => {
      let started = false;
      const stop = token.onCancel((reason) => {
        if (!started) reject(new CancelledError(reason, what));
      });
      previous.then(() => {
        stop();
        if (token.cancelled) return reject(new CancelledError(token.reason, what));
        started = true;
        return operation().then(resolve, reject);
      });
    });
    // One cancelled while it waits settles at once: the next still waits for those before it.
    this.#last = result.then(done, done).then(() => previous);
    return result;
  }
}
