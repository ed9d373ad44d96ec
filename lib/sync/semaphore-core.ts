import { performance } from 'node:perf_hooks';
import { Monitor } from '../decorators/monitor';
import { monitorMethod } from '../decorators/monitor-method';
import { CancelledError } from '../errors/cancelled-error';
import { DefinitionError } from '../errors/definition-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { ambientContext, currentToken } from '../cancellation/current-token';
import { thisThread } from '../runtime';
import { childRunner } from '../threads/child-runner';
import { currentCall, threadOfCall, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
import { otherWaits } from '../deadlock/monitor-dump';
import { monitorClasses } from '../monitor/class-registry';
import { WithdrawableWait } from '../monitor/withdrawable-wait';
import { lockWaits, type LockWaitState } from './lock-waits';
import { PermitCell } from './permit-cell';

/**
 * What a lock or a semaphore is on the thread that made it: how many permits are free, who holds
 * the others, and the acquires waiting, first come first served.
 *
 * It is a monitor, so other threads reach it with the ordinary call machinery (their token travels
 * with each call, a dead thread's calls are taken back), but a concurrent one: an acquire that
 * waits must not keep out the release that ends its wait. Each method changes the state only
 * between awaits, so no lock is needed on its one thread.
 *
 * An acquire is one call from the moment it is asked until its permit is released: it waits, is
 * granted (told through the permit's shared cell, see permit-cell.ts), then holds. So when the
 * holder's thread dies, its call is taken back like any call of a dead thread, and the permit is
 * free again; and a waiting acquire of a dead thread leaves the queue without taking anything.
 *
 * A waiting acquire is an edge of the wait-for graph when the permits it needs can come back from
 * one monitor turn only: every permit held is held by that turn, and too few are free. Held from
 * several turns, or from outside any turn (a branch child, plain code), the lock may be released
 * by someone the graph cannot see, so the wait is left out rather than risk a false alarm.
 */
export class PermitCore {
  readonly #permits: number;
  readonly #noun: 'lock' | 'semaphore';
  #free: number;
  readonly #queue: Waiter[] = [];
  readonly #held = new Map<MonitorCall, Holding>();

  constructor(permits: number, noun: 'lock' | 'semaphore') {
    this.#permits = permits;
    this.#free = permits;
    this.#noun = noun;
  }

  /**
   * Waits for `count` permits, takes them, and holds them until the holder releases them through
   * the cell in `memory`; settles then (or when the wait fails).
   */
  @monitorMethod({ name: 'acquire' })
  async hold(count: number, memory: SharedArrayBuffer): Promise<void> {
    const call = currentCall() as MonitorCall;
    if (!Number.isInteger(count) || count < 1 || count > this.#permits) {
      throw new DefinitionError('ERR_INVALID_OPTION', `${call.monitor.label}.acquire(count)`, 'count', `a whole number from 1 to ${this.#permits}`, String(count));
    }
    if (!PermitCell.fits(memory)) {
      throw new DefinitionError('ERR_INVALID_OPTION', `${call.monitor.label}.acquire`, 'memory', "a permit's cell, made by acquire()", String(memory));
    }
    // Code that is being cancelled takes no new permits, even free ones.
    const token = currentToken();
    if (token.cancelled) throw new CancelledError(token.reason, `${call.monitor.label}.acquire`);
    const cell = new PermitCell(memory);
    const holder = holderOf(call);
    if (this.#queue.length === 0 && this.#free >= count) this.#take(call, count, holder);
    else await this.#wait(call, count, holder);
    cell.grant(call.id);
    // From now on the call only holds: when its thread dies, the permit is released for it.
    call.withdraw = (error) => {
      if (error instanceof MonitorClosedError) cell.release();
    };
    try {
      await cell.released();
    } finally {
      call.withdraw = undefined;
      this.#giveBack(call);
    }
  }

  /**
   * Waits in the queue until served, cancelled (the caller's token), found in a deadlock, or taken
   * back because the caller's thread died. Whoever serves it has taken its permits for it.
   */
  #wait(call: MonitorCall, count: number, holder: Holder | undefined): Promise<void> {
    const label = call.monitor.label;
    const token = currentToken();
    if (token.cancelled) return Promise.reject(new CancelledError(token.reason, `${label}.acquire`));
    const job = ambientContext()?.job;
    // A pool child that waits here lets its thread take other children: perhaps the one holding the lock.
    if (job !== undefined) childRunner().blocked(job, 1);
    const since = performance.now();
    return new Promise<void>((resolve, reject) => {
      const end = () => {
        forgetWait();
        otherWaits().delete(call);
        if (job !== undefined) childRunner().blocked(job, -1);
        if (waiter.watched !== undefined) call.stopWaitingFor(waiter.watched.id);
        waiter.watched = undefined;
      };
      const wait = new WithdrawableWait(call, (error) => {
        remove(this.#queue, waiter);
        end();
        reject(error);
        // Those behind it may fit now.
        this.#serve();
      });
      const waiter: Waiter = {
        call,
        count,
        holder,
        watched: undefined,
        served: () => {
          wait.end();
          end();
          resolve();
        },
      };
      // What the dump and the exit warning say of this wait, read when they ask.
      const describe = (): LockWaitState => ({
        wait: `${label}.acquire(${this.#noun === 'lock' ? '' : count})`,
        seconds: ((performance.now() - since) / 1000).toFixed(1),
        why: this.#whyWaiting(waiter),
      });
      const what = this.#noun === 'lock' ? 'the lock' : count === 1 ? 'a permit' : `${count} permits`;
      otherWaits().add(call, () => {
        const { wait: acquire, seconds, why } = describe();
        return `${what}: ${acquire} has waited ${seconds} s; ${why}`;
      });
      const forgetWait = lockWaits().add(describe);
      call.queuedAt = performance.timeOrigin + performance.now();
      this.#queue.push(waiter);
      // The wait can be taken back: by its token, by a deadlock verdict, or when its caller's thread dies.
      wait.watch(token, (reason) => new CancelledError(reason, `${label}.acquire`));
      if (!wait.ended) this.#rewire();
    });
  }

  /** Serves the waiters at the head of the queue while their permits are free: first come, first served. */
  #serve(): void {
    for (let head = this.#queue[0]; head !== undefined && head.count <= this.#free; head = this.#queue[0]) {
      this.#queue.shift();
      this.#take(head.call, head.count, head.holder);
      head.served();
    }
    this.#rewire();
  }

  #take(call: MonitorCall, count: number, holder: Holder | undefined): void {
    this.#free -= count;
    this.#held.set(call, { count, holder, thread: threadOfCall(call.id) });
  }

  #giveBack(call: MonitorCall): void {
    const holding = this.#held.get(call);
    if (holding === undefined) return;
    this.#held.delete(call);
    this.#free += holding.count;
    this.#serve();
  }

  /**
   * Points each waiter's edge of the wait-for graph at the one turn whose release it needs, if
   * there is one; looks for a cycle through each edge that changed.
   */
  #rewire(): void {
    const sole = this.#soleHolder();
    for (const waiter of this.#queue) {
      const target = sole !== undefined && waiter.count > this.#free ? sole : undefined;
      if (target?.id === waiter.watched?.id) continue;
      if (waiter.watched !== undefined) waiter.call.stopWaitingFor(waiter.watched.id);
      waiter.watched = undefined;
      if (target === undefined || !tracksWaits()) continue;
      waiter.watched = target;
      waiter.call.waitFor(target.id, { thread: target.thread, monitor: target.monitor, method: target.method, call: target.call });
      deadlockDetector().list(waiter.call);
      deadlockDetector().waiting(waiter.call);
    }
  }

  /** The one turn that holds every permit held, if one does. */
  #soleHolder(): Holder | undefined {
    let sole: Holder | undefined;
    for (const { holder } of this.#held.values()) {
      if (holder === undefined || (sole !== undefined && sole.id !== holder.id)) return undefined;
      sole = holder;
    }
    return sole;
  }

  /** Why a waiter still waits, as far as this lock can tell. */
  #whyWaiting(waiter: Waiter): string {
    const ahead = this.#queue.indexOf(waiter);
    const holders = [...this.#held.values()].map(({ holder, thread }) =>
      holder === undefined ? `code outside any monitor turn (${threadName(thread)})` : `${holder.monitor}.${holder.method} (${threadName(holder.thread)})`,
    );
    const held = holders.length === 0 ? 'nothing holds it' : `it is held by ${[...new Set(holders)].join(', ')}`;
    const free = this.#noun === 'lock' ? '' : `, ${this.#free} of ${this.#permits} permits are free`;
    return `${held}${free}${ahead > 0 ? `, and ${ahead} earlier acquire${ahead === 1 ? '' : 's'} wait${ahead === 1 ? 's' : ''} before it` : ''}`;
  }
}

/** A lock's core: one permit. Its own class, so that its label (`Lock#3`) says what it is. */
@Monitor({ name: 'Lock' })
export class LockCore extends PermitCore {
  constructor() {
    super(1, 'lock');
  }
}

/** A semaphore's core. */
@Monitor({ name: 'Semaphore' })
export class SemaphoreCore extends PermitCore {
  constructor(permits: number) {
    super(permits, 'semaphore');
  }
}

/** An acquire waiting in the queue. */
interface Waiter {
  readonly call: MonitorCall;
  readonly count: number;
  /** The turn that asked, which will hold the permits. */
  readonly holder: Holder | undefined;
  /** The turn this wait is an edge to in the wait-for graph, if any. */
  watched: Holder | undefined;
  /** Its permits were taken for it: the wait ends. */
  served(): void;
}

/** Permits held by one acquire. */
interface Holding {
  readonly count: number;
  readonly holder: Holder | undefined;
  /** The thread of the code that holds them. */
  readonly thread: number;
}

/** The monitor turn that made an acquire, as the wait-for graph names it. */
interface Holder {
  readonly id: number;
  readonly thread: number;
  readonly monitor: string;
  readonly method: string;
  /** The turn itself, when it lives on this thread. */
  readonly call: MonitorCall | undefined;
}

/** The turn that made `call`: here, or on the thread its id names; undefined when no turn did. */
function holderOf(call: MonitorCall): Holder | undefined {
  const { caller } = call;
  if (caller !== undefined) return { id: caller.id, thread: thisThread().id, monitor: caller.monitor.label, method: caller.method, call: caller };
  const chain = call.callerChain;
  if (chain === undefined || chain.length === 0 || call.callerMonitor === undefined) return undefined;
  return { id: chain[chain.length - 1] as number, thread: threadOfCall(call.id), monitor: call.callerMonitor, method: 'its turn', call: undefined };
}

function threadName(thread: number): string {
  return thread === 0 ? 'main' : `thread ${thread}`;
}

function remove<T>(list: T[], entry: T): void {
  const index = list.indexOf(entry);
  if (index !== -1) list.splice(index, 1);
}

// Calls never queue and never hold it: a waiting acquire must not keep out the release that ends it.
for (const core of [LockCore, SemaphoreCore]) (monitorClasses().planOf(core) as { concurrent?: boolean }).concurrent = true;
