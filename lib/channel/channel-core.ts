import { performance } from 'node:perf_hooks';
import { Monitor } from '../decorators/monitor';
import { monitorMethod } from '../decorators/monitor-method';
import { CancelledError } from '../errors/cancelled-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { ambientContext, currentToken } from '../cancellation/current-token';
import { warningMessages } from '../errors/codes';
import { slot, thisThread } from '../runtime';
import { WaitsAtExit, type WaitAtExitState } from '../deadlock/waits-at-exit';
import { childRunner } from '../threads/child-runner';
import { callOf, currentCall, threadOfCall, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
import { otherWaits } from '../deadlock/monitor-dump';
import { monitorClasses } from '../monitor/class-registry';
import { WithdrawableWait } from '../monitor/withdrawable-wait';
import { decode } from '../threads/serialize';
import { Kept, Ring } from './ring';
import { fromBytes, isPrimitive, ValueBytes } from './value-bytes';

/**
 * What a channel is on the thread that made it: the slow side of its ring (ring.ts), where waits
 * live. Puts and gets that find room or a value in the ring never come here (channel.ts); the
 * ones that must wait do, and so do the first put and the first get of each turn on each thread,
 * so that the channel knows its producer and consumer as before. Values that cannot be written
 * as bytes come here too, and stay here, their number in a KEPT slot of the ring.
 *
 * It is a monitor, so other threads reach it with the ordinary call machinery (their token
 * travels with each call, a dead thread's calls are answered), but a concurrent one: a `get`
 * that waits for a value must not keep the `put` that brings it out. Each method changes its own
 * state only between awaits, and the ring's under the ring's lock, so no other lock is needed.
 *
 * Values that wait to go into the ring (puts that wait for room, and, for a capacity above the
 * ring's slots, the values put beyond them) are `#pending`, in order, after every value of the
 * ring: while any is pending, the ring says so and nobody else puts into it, so the order holds.
 * While a put or a get waits here, the core waits on the ring's version for a change made by any
 * thread, then serves what it can: pending values into the ring, waiting gets out of it.
 *
 * A wait is an edge of the wait-for graph when the channel knows its other side: the one turn
 * that has put into it (for a `get`) or taken from it (for a `put`). A channel fed by several
 * turns, or from outside any monitor turn (a branch child, plain code), may be filled by someone
 * the graph cannot see, so its waits are left out rather than risk a false alarm.
 */
@Monitor({ name: 'Channel' })
export class ChannelCore {
  readonly #capacity: number;
  readonly #ring: Ring;
  /** Values after the ring's, oldest first; a put's waiter is there until its value is within the capacity. */
  readonly #pending: Pending[] = [];
  /** Values the ring holds by number (KEPT slots). */
  readonly #kept = new Map<number, Item>();
  #nextKept = 1;
  readonly #getters: Waiter<unknown>[] = [];
  /** Puts and gets waiting on their own threads, for room or a value (see #signal). */
  readonly #roomWaiters: Waiter<void>[] = [];
  readonly #valueWaiters: Waiter<void>[] = [];
  #watching = false;
  #label = 'Channel';
  #producer: Party | 'unknown' | undefined;
  #consumer: Party | 'unknown' | undefined;

  /** @param memory - the ring's memory, made with {@link Ring.create} for `capacity` */
  constructor(capacity: number, memory: SharedArrayBuffer) {
    this.#capacity = capacity;
    this.#ring = new Ring(memory, capacity);
  }

  /**
   * Puts a value that could not go straight into the ring: `bytes` (latin1) as written by
   * value-bytes.ts, or a `value` that only a message can carry.
   */
  @monitorMethod
  async put(kind: 'bytes' | 'value' | 'room', data?: unknown): Promise<void> {
    this.#producer = learn(this.#producer);
    this.#label = label();
    if (kind === 'room') return this.#signal('put');
    const item: Item = kind === 'bytes' ? { bytes: Buffer.from(data as string, 'latin1') } : { value: data };
    const ring = this.#ring;
    ring.lock();
    let accepted: boolean;
    try {
      if (ring.closed) {
        discard(item);
        throw new ChannelClosedError('ERR_CHANNEL_CLOSED', this.#label);
      }
      accepted = this.#pending.length === 0 ? this.#putInRing(item) : false;
      if (!accepted && ring.count + this.#pending.length < this.#capacity) {
        this.#pending.push({ item, waiter: undefined });
        ring.pending = this.#pending.length;
        accepted = true;
      }
    } finally {
      ring.unlock();
    }
    ring.wake();
    if (accepted) {
      this.#serve();
      return;
    }
    let waiting: Promise<void>;
    try {
      waiting = this.#wait<void>(
        'put',
        (waiter) => this.#pending.push({ item, waiter }),
        (waiter) => {
          // Taken back, it inserts nothing; a later put may now be within the capacity.
          remove(this.#pending, (entry) => entry.waiter === waiter);
          discard(item);
          queueMicrotask(() => this.#serve());
        },
        this.#consumer,
      );
    } catch (error) {
      // Its token was cancelled before it could wait: the references in its bytes are counted back here, as the put's own thread no longer does.
      discard(item);
      throw error;
    }
    // Served only once the wait is set up, so that its end undoes all of it.
    this.#serve();
    return waiting;
  }

  /** Takes the oldest value for a get that found none it could take in the ring. */
  @monitorMethod
  async get(only?: 'signal'): Promise<unknown> {
    this.#consumer = learn(this.#consumer);
    this.#label = label();
    if (only === 'signal') return this.#signal('get');
    const ring = this.#ring;
    let taken: Item | undefined;
    let closed: boolean;
    ring.lock();
    try {
      taken = this.#takeOldest();
      closed = ring.closed;
    } finally {
      ring.unlock();
    }
    ring.wake();
    if (taken !== undefined) {
      this.#serve();
      return open(taken);
    }
    if (closed) throw new ChannelClosedError('ERR_CHANNEL_DRAINED', this.#label);
    const waiting = this.#wait<unknown>(
      'get',
      (waiter) => this.#getters.push(waiter),
      (waiter) => remove(this.#getters, (entry) => entry === waiter),
      this.#producer,
    );
    // A value may have come into the ring since it was looked at: served only once the wait is set up.
    this.#serve();
    return waiting;
  }

  /** Closes the channel: waiting and later puts fail; gets take what is left, then fail. */
  @monitorMethod
  async close(): Promise<void> {
    this.#label = label();
    const ring = this.#ring;
    ring.lock();
    const already = ring.closed;
    if (!already) ring.close();
    ring.unlock();
    ring.wake();
    if (already) return;
    // Puts not yet within the capacity fail; values already put stay, to be taken.
    const refused = this.#pending.filter((entry) => entry.waiter !== undefined);
    for (const entry of refused) {
      remove(this.#pending, (other) => other === entry);
      discard(entry.item);
    }
    for (const { waiter } of refused) waiter?.reject(new ChannelClosedError('ERR_CHANNEL_CLOSED', this.#label));
    this.#serve();
  }

  /**
   * The wait of a put or get that waits on its own thread (channel.ts): it ends, without putting
   * or taking anything, once a put may find room (or must come here: values are pending), a get
   * a value, or the channel is closed (the put or get then looks again on its own thread, and
   * fails there). While it lasts it is the wait that dumps, the exit warning and the wait-for
   * graph see, and its cancellation, a deadlock verdict or its thread's death end it as any wait here.
   */
  #signal(side: 'put' | 'get'): Promise<void> {
    const list = side === 'put' ? this.#roomWaiters : this.#valueWaiters;
    const waiting = this.#wait<void>(
      side,
      (waiter) => list.push(waiter),
      (waiter) => remove(list, (entry) => entry === waiter),
      side === 'put' ? this.#consumer : this.#producer,
    );
    this.#serve();
    return waiting;
  }

  /** Takes the oldest value, from the ring or else from the pending ones; under the ring's lock. */
  #takeOldest(): Item | undefined {
    const ring = this.#ring;
    if (ring.count > 0) {
      const taken = ring.take();
      if (taken instanceof ValueBytes) return { bytes: taken.bytes };
      if (!(taken instanceof Kept)) return { value: taken };
      const item = this.#kept.get(taken.id) as Item;
      this.#kept.delete(taken.id);
      return item;
    }
    const first = this.#pending.shift();
    ring.pending = this.#pending.length;
    first?.waiter?.resolve();
    return first?.item;
  }

  /** Writes a value into a free slot of the ring, as bytes or kept here; under the ring's lock. */
  #putInRing(item: Item): boolean {
    const ring = this.#ring;
    if (ring.count >= ring.slots) return false;
    if ('bytes' in item ? ring.putBytes(item.bytes) : isPrimitive(item.value) && ring.putPrimitive(item.value)) return true;
    const id = this.#nextKept++;
    this.#kept.set(id, item);
    return ring.putKept(id);
  }

  /**
   * Moves pending values into the ring, accepts waiting puts whose value is now within the
   * capacity, hands the oldest values to waiting gets, and ends those that a close leaves with
   * nothing; then, while anything still waits, watches the ring for a change by another thread.
   */
  #serve(): void {
    const ring = this.#ring;
    const accepted: Waiter<void>[] = [];
    const served: [Waiter<unknown>, Item][] = [];
    const signalled: Waiter<void>[] = [];
    let drained = false;
    ring.lock();
    try {
      for (let progress = true; progress; ) {
        progress = false;
        while (this.#pending.length > 0 && this.#putInRing((this.#pending[0] as Pending).item)) {
          const { waiter } = this.#pending.shift() as Pending;
          if (waiter !== undefined) accepted.push(waiter);
          progress = true;
        }
        for (let index = 0; index < this.#pending.length && ring.count + index < this.#capacity; index++) {
          const entry = this.#pending[index] as Pending;
          if (entry.waiter === undefined) continue;
          accepted.push(entry.waiter);
          entry.waiter = undefined;
        }
        while (this.#getters.length > 0) {
          const item = this.#takeOldest();
          if (item === undefined) break;
          served.push([this.#getters.shift() as Waiter<unknown>, item]);
          progress = true;
        }
      }
      ring.pending = this.#pending.length;
      drained = ring.closed && ring.count === 0 && this.#pending.length === 0;
      if (ring.closed || ring.count < ring.slots || this.#pending.length > 0) signalled.push(...this.#roomWaiters.splice(0));
      if (ring.closed || ring.count > 0 || this.#pending.length > 0) signalled.push(...this.#valueWaiters.splice(0));
      ring.setWaiters(this.#waits());
    } finally {
      ring.unlock();
    }
    ring.wake();
    for (const waiter of accepted) waiter.resolve();
    // Signalled waits look again on their own threads, where the closed channel fails them.
    for (const waiter of signalled) waiter.resolve();
    for (const [waiter, item] of served) {
      let value: unknown;
      try {
        value = open(item);
      } catch (error) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      waiter.resolve(value);
    }
    if (drained) for (const getter of this.#getters.splice(0)) getter.reject(new ChannelClosedError('ERR_CHANNEL_DRAINED', this.#label));
    if (this.#waits()) this.#watch();
  }

  /** Whether anything here waits for a change of the ring. */
  #waits(): boolean {
    return this.#getters.length > 0 || this.#pending.length > 0 || this.#roomWaiters.length > 0 || this.#valueWaiters.length > 0;
  }

  /** Serves again after each change another thread makes to the ring, while anything waits here. */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    const ring = this.#ring;
    const loop = async (): Promise<void> => {
      try {
        while (this.#waits()) {
          // Waiters first, then the version: a change after this read wakes the wait below.
          ring.setWaiters(true);
          const seen = ring.version();
          this.#serve();
          if (!this.#waits()) break;
          await ring.changeFrom(seen);
        }
      } finally {
        this.#watching = false;
        // A wait taken back (cancelled, or served on its own thread) leaves without a #serve: nothing here waits now.
        if (!this.#waits()) ring.setWaiters(false);
      }
    };
    void loop();
  }

  /**
   * Waits in a queue until served, cancelled (the caller's token) or found in a deadlock. While
   * it waits, the call waits for the turn on the other side, if the channel knows just one.
   */
  #wait<T>(side: 'put' | 'get', enqueue: (waiter: Waiter<T>) => void, dequeue: (waiter: Waiter<T>) => void, other: Party | 'unknown' | undefined): Promise<T> {
    const token = currentToken();
    token.throwIfCancelled();
    const context = ambientContext();
    const call = callOf(context);
    const job = context?.job;
    // A pool child that waits here lets its thread take other children: perhaps the one it waits for.
    if (job !== undefined) childRunner().blocked(job, 1);
    const channel = label();
    const since = performance.now();
    // What the dump and the exit warning say of this wait, read when they ask.
    const describe = (): ChannelWaitState => ({ wait: `${channel}.${side}()`, seconds: ((performance.now() - since) / 1000).toFixed(1), why: this.#whyWaiting(side) });
    return new Promise<T>((resolve, reject) => {
      const forgetWait = channelWaits().add(describe);
      const watched = call !== undefined && typeof other === 'object' && tracksWaits() ? other : undefined;
      const wait = new WithdrawableWait(call, (error) => {
        dequeue(waiter);
        waiter.reject(error);
      });
      let edge = watched !== undefined;
      const end = () => {
        wait.end();
        if (edge) this.#ring.countEdge(side, -1);
        edge = false;
        if (call !== undefined) otherWaits().delete(call);
        forgetWait();
        if (job !== undefined) childRunner().blocked(job, -1);
        if (watched !== undefined) call?.stopWaitingFor(watched.id);
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          end();
          resolve(value);
        },
        reject: (error) => {
          end();
          reject(error);
        },
      };
      if (call !== undefined) otherWaits().add(call, () => describeForDump(side, describe()));
      // Counted before the ring is looked at again (the #serve after this): from then on, the other side's puts or gets come here.
      if (edge) this.#ring.countEdge(side, 1);
      enqueue(waiter);
      // The wait can be taken back: by its token, by a deadlock verdict, or when its caller's thread dies.
      wait.watch(token, (reason) => new CancelledError(reason, `${label()}.${side}`));
      if (call !== undefined && watched !== undefined) {
        call.waitFor(watched.id, { thread: watched.thread, monitor: watched.monitor, method: watched.method, call: watched.call });
        call.queuedAt = performance.timeOrigin + performance.now();
        deadlockDetector().list(call);
        deadlockDetector().waiting(call);
      }
    });
  }

  /** Why a wait on `side` may never end, as far as this channel can tell. */
  #whyWaiting(side: 'put' | 'get'): string {
    const other = side === 'get' ? this.#producer : this.#consumer;
    const doer = side === 'get' ? 'producer' : 'consumer';
    const done = side === 'get' ? 'put anything into it' : 'taken anything from it';
    const how = side === 'get' ? 'put into' : 'taken from';
    if (other === undefined) return `no ${doer} has ${done}, and it is not closed`;
    if (other === 'unknown') return `it was ${how} by more than one monitor turn or from outside any (a child, plain code), so whether anyone still will is unknown, and it is not closed`;
    return `its only ${doer} is ${other.monitor}.${other.method} (${other.thread === 0 ? 'main' : `thread ${other.thread}`}), and it is not closed`;
  }
}

/** A channel wait as `dumpMonitors()` tells it, among what its turn waits for. */
function describeForDump(side: 'put' | 'get', { wait, seconds, why }: ChannelWaitState): string {
  return `${side === 'get' ? 'a value' : 'room'}: ${wait} has waited ${seconds} s; ${why}`;
}

/** A channel wait as the exit warning tells it. */
type ChannelWaitState = WaitAtExitState;

/**
 * The channel waits of this thread: a process that exits with one pending warns
 * `SAFETHREAD_CHANNEL_WAIT` instead of exiting silently (see deadlock/waits-at-exit.ts).
 */
const channelWaits = slot(
  'channel waits',
  () => new WaitsAtExit(({ wait, seconds, why }) => process.emitWarning(warningMessages.SAFETHREAD_CHANNEL_WAIT(wait, seconds, why), { code: 'SAFETHREAD_CHANNEL_WAIT' })),
);

/** A value on its way through the core: bytes as value-bytes.ts writes them, or a value as itself (a primitive, or one only a message can carry). */
type Item = { readonly bytes: Uint8Array } | { readonly value: unknown };

/** A value waiting to go into the ring, and the put that waits until it is within the capacity. */
interface Pending {
  readonly item: Item;
  waiter: Waiter<void> | undefined;
}

/** Counts back the references inside bytes that will never be taken: decoding them does, as taking them would. */
function discard(item: Item): void {
  if (!('bytes' in item)) return;
  try {
    decode(fromBytes(item.bytes));
  } catch {
    // Kept counts only keep their monitors exported, which is safe.
  }
}

/** The value an item stands for, on this thread. */
function open(item: Item): unknown {
  return 'bytes' in item ? decode(fromBytes(item.bytes)) : item.value;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** The turn on one side of the channel, as far as the graph is concerned. */
interface Party {
  readonly id: number;
  readonly thread: number;
  readonly monitor: string;
  readonly method: string;
  /** The turn itself, when it lives on this thread. */
  readonly call: MonitorCall | undefined;
}

/** Who the calling turn is; a second turn, or a call from outside any turn, makes the side unknown for good. */
function learn(known: Party | 'unknown' | undefined): Party | 'unknown' {
  if (known === 'unknown') return known;
  const call = currentCall();
  const id = call?.caller?.id ?? call?.callerChain?.[call.callerChain.length - 1];
  if (call === undefined || id === undefined) return 'unknown';
  if (known !== undefined) return known.id === id ? known : 'unknown';
  return partyOf(call) ?? 'unknown';
}

/** The turn that made `call`: here, or on the thread its id names. */
function partyOf(call: MonitorCall): Party | undefined {
  if (call.caller !== undefined) {
    const { caller } = call;
    return { id: caller.id, thread: thisThread().id, monitor: caller.monitor.label, method: caller.method, call: caller };
  }
  const chain = call.callerChain;
  if (chain === undefined || chain.length === 0 || call.callerMonitor === undefined) return undefined;
  return { id: chain[chain.length - 1] as number, thread: threadOfCall(call.id), monitor: call.callerMonitor, method: 'its turn', call: undefined };
}

/** The label of the channel whose method runs now. */
function label(): string {
  return currentCall()?.monitor.label ?? 'Channel';
}

function remove<T>(list: T[], matches: (entry: T) => boolean): void {
  const index = list.findIndex(matches);
  if (index !== -1) list.splice(index, 1);
}

// Calls never queue and never hold it: a waiting get must not keep out the put that ends it.
(monitorClasses().planOf(ChannelCore) as { concurrent?: boolean }).concurrent = true;
