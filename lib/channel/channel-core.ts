import { performance } from 'node:perf_hooks';
import { Monitor } from '../decorators/monitor';
import { monitorMethod } from '../decorators/monitor-method';
import { CancelledError } from '../errors/cancelled-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { ambientContext, currentToken } from '../cancellation/current-token';
import { warningMessages } from '../errors/codes';
import { slot, thisThread } from '../runtime';
import { childRunner } from '../threads/child-runner';
import { callOf, currentCall, threadOfCall, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
import { otherWaits } from '../deadlock/monitor-dump';
import { monitorClasses } from '../monitor/class-registry';
import { WithdrawableWait } from '../monitor/withdrawable-wait';

/**
 * What a channel is on the thread that made it: the buffer and the calls waiting to put or get.
 *
 * It is a monitor, so other threads reach it with the ordinary call machinery (their token
 * travels with each call, a dead thread's calls are answered), but a concurrent one: a `get`
 * that waits for a value must not keep the `put` that brings it out. Each method changes the
 * state only between awaits, so no lock is needed on its one thread.
 *
 * A wait is an edge of the wait-for graph when the channel knows its other side: the one turn
 * that has put into it (for a `get`) or taken from it (for a `put`). A channel fed by several
 * turns, or from outside any monitor turn (a branch child, plain code), may be filled by someone
 * the graph cannot see, so its waits are left out rather than risk a false alarm.
 */
@Monitor({ name: 'Channel' })
export class ChannelCore {
  readonly #capacity: number;
  readonly #values: unknown[] = [];
  readonly #getters: Waiter<unknown>[] = [];
  readonly #putters: { readonly value: unknown; readonly waiter: Waiter<void> }[] = [];
  #closed = false;
  #producer: Party | 'unknown' | undefined;
  #consumer: Party | 'unknown' | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  @monitorMethod
  async put(value: unknown): Promise<void> {
    this.#producer = learn(this.#producer);
    if (this.#closed) throw new ChannelClosedError('ERR_CHANNEL_CLOSED', label());
    const getter = this.#getters.shift();
    if (getter !== undefined) return getter.resolve(value);
    if (this.#values.length < this.#capacity) {
      this.#values.push(value);
      return;
    }
    return this.#wait<void>('put', (waiter) => this.#putters.push({ value, waiter }), (waiter) => remove(this.#putters, (entry) => entry.waiter === waiter), this.#consumer);
  }

  @monitorMethod
  async get(): Promise<unknown> {
    this.#consumer = learn(this.#consumer);
    if (this.#values.length > 0) {
      const value = this.#values.shift();
      // A slot opened: the first waiting put fills it.
      const putter = this.#putters.shift();
      if (putter !== undefined) {
        this.#values.push(putter.value);
        putter.waiter.resolve();
      }
      return value;
    }
    if (this.#closed) throw new ChannelClosedError('ERR_CHANNEL_DRAINED', label());
    return this.#wait<unknown>('get', (waiter) => this.#getters.push(waiter), (waiter) => remove(this.#getters, (entry) => entry === waiter), this.#producer);
  }

  /** Closes the channel: waiting and later puts fail; gets take what is left, then fail. */
  @monitorMethod
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { waiter } of this.#putters.splice(0)) waiter.reject(new ChannelClosedError('ERR_CHANNEL_CLOSED', label()));
    for (const getter of this.#getters.splice(0)) getter.reject(new ChannelClosedError('ERR_CHANNEL_DRAINED', label()));
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
      const end = () => {
        wait.end();
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
interface ChannelWaitState {
  readonly wait: string;
  readonly seconds: string;
  readonly why: string;
}

/**
 * The channel waits of this thread, to tell of them when the process exits with them pending.
 *
 * A waiting `get()` or `put()` does not keep the process alive: when nothing else does, Node exits
 * with the promise never settled and the code awaiting it never resumed, silently. On the main
 * thread, while any wait lasts, a 'beforeExit' listener turns that into a warning, once per wait.
 */
class ChannelWaits {
  readonly #waits = new Set<() => ChannelWaitState>();
  readonly #warned = new WeakSet<() => ChannelWaitState>();
  readonly #beforeExit = (): void => {
    for (const describe of this.#waits) {
      if (this.#warned.has(describe)) continue;
      this.#warned.add(describe);
      const { wait, seconds, why } = describe();
      process.emitWarning(warningMessages.SAFETHREAD_CHANNEL_WAIT(wait, seconds, why), { code: 'SAFETHREAD_CHANNEL_WAIT' });
    }
  };

  /** Adds a wait; the function returned removes it. */
  add(describe: () => ChannelWaitState): () => void {
    if (this.#waits.size === 0 && thisThread().id === 0) process.on('beforeExit', this.#beforeExit);
    this.#waits.add(describe);
    return () => {
      if (!this.#waits.delete(describe)) return;
      if (this.#waits.size === 0) process.off('beforeExit', this.#beforeExit);
    };
  }
}

const channelWaits = slot('channel waits', () => new ChannelWaits());

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
