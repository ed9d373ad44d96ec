import { performance } from 'node:perf_hooks';
import { Monitor } from '../decorators/monitor';
import { monitorMethod } from '../decorators/monitor-method';
import { CancelledError } from '../errors/cancelled-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { ambientContext, currentToken } from '../cancellation/current-token';
import { thisThread } from '../runtime';
import { childRunner } from '../threads/child-runner';
import { callOf, currentCall, threadOfCall, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
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
    return new Promise<T>((resolve, reject) => {
      const watched = call !== undefined && typeof other === 'object' && tracksWaits() ? other : undefined;
      const wait = new WithdrawableWait(call, (error) => {
        dequeue(waiter);
        waiter.reject(error);
      });
      const end = () => {
        wait.end();
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
