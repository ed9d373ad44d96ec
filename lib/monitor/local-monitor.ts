import { performance } from 'node:perf_hooks';
import { DefinitionError } from '../errors/definition-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { CancelledError } from '../errors/cancelled-error';
import { observables } from '../observables';
import { thisThread } from '../runtime';
import { ambientContext, applyInContext, runInContext, type AmbientContext } from '../cancellation/current-token';
import { passArguments, passValue } from '../shareability/boundary';
import { CancellationToken } from '../cancellation/cancellation-token';
import { deadlockDetector, emitMonitorEvent, monitorEventsHeard, tracksWaits } from '../deadlock/wait-tracking';
import { callKey, callOf, MonitorCall, newCallNumber, threadOfCall, type CalledMonitor } from '../deadlock/monitor-call';
import type { MonitorEndpoint, Subscribable } from './monitor-endpoint';
import type { MethodMark, MonitorPlan } from './monitor-plan';
import { exportTable } from './export-table';
import { TurnQueue } from './turn-queue';
import { unawaitable } from './unawaitable-stream';
import { WithdrawableWait } from './withdrawable-wait';

/**
 * A monitor on the thread that owns it: the real instance and the queue of turns that runs its
 * methods one at a time.
 *
 * Non-reentrant by default: a turn holds the monitor from the method's start until its promise
 * settles, awaits included, so no other call can see the state half-way through a method. With
 * `reentrant: 'chain'`, a call made (directly or through other monitors) by a turn running here
 * enters at once instead of queueing behind that turn, so A -> B -> A completes.
 *
 * Each call is a {@link MonitorCall} in the wait-for graph: the turn runs carrying it through its
 * awaits (in the ambient context), so the calls it makes count as its waits, and a call that
 * must queue starts a deadlock probe.
 */
export class LocalMonitor implements MonitorEndpoint, CalledMonitor {
  readonly #instance: object;
  readonly #turns = new TurnQueue();
  /** Per method, what the messages call it and how to find it, made once. */
  readonly #methods = new Map<string, MethodEntry>();
  /** Why the monitor was closed; calls from then on reject with {@link MonitorClosedError}. */
  #closed: string | undefined;
  /** The reference `new` returned, which stands for this monitor wherever it goes. */
  reference: object | undefined;
  /** The turn holding the monitor; a plain field, not a set, since that is the hot path. */
  #holder: MonitorCall | undefined;
  /** The holder's `Class.method`, for the check of its result. */
  #holderWhere = '';
  /** Turns running beside the holder: calls that re-entered from its chain, or any call of a concurrent monitor. */
  #beside: Set<MonitorCall> | undefined;
  readonly queued = new Set<MonitorCall>();
  readonly label: string;

  constructor(
    instance: object,
    readonly plan: MonitorPlan,
    readonly id: number,
  ) {
    this.#instance = instance;
    this.label = `${plan.className}#${id}`;
  }

  /** Closes the monitor: calls still queued and every later call reject; a running turn finishes. Other threads reach it no more. */
  close(why: string): void {
    this.#closed ??= why;
    exportTable().remove(this.id);
  }

  /** The turns inside the monitor now. */
  get running(): MonitorCall[] {
    const turns = this.#beside === undefined ? [] : [...this.#beside];
    if (this.#holder !== undefined) turns.unshift(this.#holder);
    return turns;
  }

  /** Takes back the waiting calls that `thread` made: it ended, and nobody will take their results. */
  dropCallsFrom(thread: number, why: string): void {
    for (const call of [...this.queued, ...this.running]) {
      if (threadOfCall(call.id) === thread) call.withdraw?.(new MonitorClosedError(`${call.monitor.label}.${call.method}`, `its caller's thread ended: ${why}`));
    }
  }

  /** A call through a reference on this thread, by method name. */
  call(method: string, args: unknown[]): Promise<unknown> {
    return this.#call(this.#entryOf(method), args);
  }

  /** What a reference's method property gives for `method`: calls with its entry found once, not per call. */
  caller(method: string): (...args: unknown[]) => Promise<unknown> {
    const entry = this.#entryOf(method);
    return (...args: unknown[]) => this.#call(entry, args);
  }

  /**
   * A call through a reference on this thread: its caller is the turn running now, if any. The
   * hot path of every same-thread call, so it builds nothing it does not need: no origin object,
   * no argument check without arguments, and on an idle monitor no queue entry, wait or detector
   * entry.
   */
  #call(entry: MethodEntry, args: unknown[]): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(new MonitorClosedError(this.label, this.#closed));
    if (args.length !== 0) {
      const refused = refusedArgument(entry, args);
      if (refused !== undefined) return Promise.reject(refused);
    }
    const context = ambientContext();
    const running = callOf(context);
    // Work a turn left running after it ended (a timer, a stream) still carries it: it waits for nothing.
    const caller = running !== undefined && running.state === 'running' ? running : undefined;
    const call = new MonitorCall(callKey(thisThread().id, newCallNumber()), this, entry.method, caller, undefined);
    if (caller !== undefined) this.#addWait(caller, call);
    // The common case, an idle monitor of the default kind: the turn starts now, as the holder.
    if (this.#turns.free && this.plan.concurrent !== true) {
      this.#turns.hold();
      return this.#runHolder(call, entry, args, context);
    }
    return this.#admit(call, entry, args, context, callMethod);
  }

  /** The turn `caller` waits for `call` now. */
  #addWait(caller: MonitorCall, call: MonitorCall): void {
    caller.waitFor(call.id, { thread: thisThread().id, monitor: this.label, method: call.method, call });
  }

  /**
   * A stream method's Observable. Each subscription is a call: it queues like any other, and its
   * turn runs the method and subscribes to the Observable it returns, then ends, so a long stream
   * does not hold the monitor. Each value is checked for shareability on its way out. The
   * Observable of a call made here refuses to be awaited (see {@link unawaitable}); one served
   * to another thread (`origin` given) is only subscribed.
   */
  stream(method: string, args: unknown[], origin?: CallOrigin): Subscribable {
    const where = this.#entryOf(method).where;
    const { streamAsObservable, innerSubscriber } = observables('a stream monitor method');
    const stream = streamAsObservable((observer) => {
      let stopped = false;
      // A subscriber of our own, so that an unsubscribe during the method's subscribe (a `take(3)`
      // downstream of a synchronous producer) reaches the producer at once.
      const inner = innerSubscriber({
        next: (value: unknown) => {
          if (stopped) return;
          let checked: unknown;
          try {
            checked = passValue(value, where, 'value');
          } catch (error) {
            stop();
            observer.error(error);
            return;
          }
          observer.next(checked);
          if (observer.closed === true) stop();
        },
        error: (error: unknown) => observer.error(error),
        complete: () => observer.complete(),
      });
      const stop = () => {
        stopped = true;
        inner.unsubscribe();
      };
      const subscribe: TurnBody = (instance, original, callArgs) => {
        // Unsubscribed while it waited for its turn: the method never runs.
        if (stopped) return Promise.resolve();
        const result = original.apply(instance, callArgs);
        if (!isSubscribable(result)) {
          // A method meant to be async that returns a promise: its rejection is this error's, not an unhandled one.
          if (isPromiseLike(result)) Promise.resolve(result).catch(() => undefined);
          throw new DefinitionError('ERR_STREAM_METHOD_NOT_OBSERVABLE', where, describeResult(result));
        }
        result.subscribe(inner);
        return Promise.resolve();
      };
      this.serve(method, args, origin ?? this.#originHere(), subscribe).catch((error: unknown) => {
        if (!stopped) observer.error(error);
      });
      return stop;
    });
    return origin === undefined ? unawaitable(stream, where) : stream;
  }

  /** A call through a reference on this thread, as {@link LocalMonitor.serve} takes it: its caller is the turn running now, if any. */
  #originHere(): CallOrigin {
    const context = ambientContext();
    const running = callOf(context);
    const caller = running?.state === 'running' ? running : undefined;
    return { id: callKey(thisThread().id, newCallNumber()), context, caller, chain: undefined, callerMonitor: undefined, remote: false };
  }

  /** Runs a call, whether made here or arrived from another thread; `body` runs the method (a stream call subscribes). */
  serve(method: string, args: unknown[], origin: CallOrigin, body: TurnBody = callMethod): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(new MonitorClosedError(this.label, this.#closed));
    const entry = this.#entryOf(method);
    const refused = refusedArgument(entry, args);
    if (refused !== undefined) return Promise.reject(refused);
    const call = new MonitorCall(origin.id, this, entry.mark.displayName, origin.caller, origin.chain);
    call.callerMonitor = origin.callerMonitor;
    if (origin.caller !== undefined) this.#addWait(origin.caller, call);
    if (origin.remote && tracksWaits()) deadlockDetector().list(call);
    return this.#admit(call, entry, args, origin.context, body);
  }

  /**
   * Starts the call now when it may (the monitor is free, concurrent, or the call re-enters from
   * its chain), else queues it. A free monitor is the common case: the turn starts with no queue
   * entry and no wait to withdraw, so the detector has nothing to list until a later call queues.
   */
  #admit(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined, body: TurnBody): Promise<unknown> {
    if (this.plan.concurrent === true) return this.#run(call, entry, args, context, body, true);
    if (this.#turns.free) {
      this.#turns.hold();
      return this.#run(call, entry, args, context, body, false);
    }
    if (this.plan.reentrant === 'chain' && this.#calledByATurnHere(call)) return this.#run(call, entry, args, context, body, true);
    return this.#queue(call, entry, args, context, body);
  }

  /** Whether the call comes, through any number of monitors, from a turn running here. */
  #calledByATurnHere(call: MonitorCall): boolean {
    const running = this.running;
    const isHere = (id: number) => running.some((turn) => turn.id === id);
    let from: MonitorCall = call;
    for (; from.caller !== undefined; from = from.caller) if (isHere(from.caller.id)) return true;
    // The rest of the chain is on other threads: it came with the call.
    return from.callerChain?.some(isHere) ?? false;
  }

  /**
   * A call that must wait for the monitor. It runs later under the caller's context (its token),
   * not the context of whichever turn releases the monitor. It leaves the queue with a
   * {@link CancelledError} if its token is cancelled while it waits, or with a
   * {@link DeadlockError} if its wait closes a cycle.
   */
  #queue(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined, body: TurnBody): Promise<unknown> {
    const token = context?.token;
    const cancelled = (reason: unknown) => new CancelledError(reason, `${entry.where} (waiting for ${this.label})`);
    if (token?.cancelled) {
      this.#forget(call);
      return Promise.reject(cancelled(token.reason));
    }
    call.queuedAt = performance.timeOrigin + performance.now();
    return new Promise((resolve, reject) => {
      const wait = new WithdrawableWait(call, (error) => {
        this.queued.delete(call);
        this.#forget(call);
        if (monitorEventsHeard() && error.name === 'DeadlockError') emitMonitorEvent({ kind: 'deadlock', monitor: this.label, method: call.method, thread: thisThread().name, call: call.id, error });
        reject(error);
      });
      // In the queue and the graph before the token is watched: a token cancelled on another thread
      // between the check above and now withdraws the call inside `watch`, and must find it there.
      this.queued.add(call);
      const detector = tracksWaits() ? deadlockDetector() : undefined;
      detector?.list(call);
      wait.watch(token, cancelled);
      if (wait.ended) return;
      this.#turns.enter(() => {
        // The token may have been cancelled on another thread a moment ago, before this thread heard of it.
        if (!wait.ended && token?.cancelled) wait.withdraw(cancelled(token.reason));
        if (wait.ended) {
          this.#turns.release();
          return;
        }
        wait.end();
        this.queued.delete(call);
        if (this.#closed !== undefined) {
          this.#forget(call);
          this.#turns.release();
          reject(new MonitorClosedError(this.label, this.#closed));
          return;
        }
        this.#run(call, entry, args, context, body, false).then(resolve, reject);
      });
      if (call.state === 'queued' && !wait.ended) {
        if (monitorEventsHeard()) emitMonitorEvent({ kind: 'queued', monitor: this.label, method: call.method, thread: thisThread().name, call: call.id });
        detector?.queued(call);
      }
    });
  }

  /**
   * {@link LocalMonitor.#run} for the holder of a plain call, the hot path: the same steps with
   * nothing to choose between, no closure per call, and no `Promise.resolve()` around an async
   * method's promise.
   */
  #runHolder(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined): Promise<unknown> {
    call.state = 'running';
    this.#holder = call;
    this.#holderWhere = entry.where;
    if (monitorEventsHeard()) emitMonitorEvent({ kind: 'turn', monitor: this.label, method: call.method, thread: thisThread().name, call: call.id });
    let result: unknown;
    try {
      if (tracksWaits() || this.plan.reentrant === 'chain') {
        result = applyInContext({ token: context?.token ?? CancellationToken.none, job: context?.job, call }, entry.original, this.#instance, args);
      } else {
        result = context === undefined || context === ambientContext() ? entry.original.apply(this.#instance, args) : applyInContext(context, entry.original, this.#instance, args);
      }
    } catch (error) {
      this.#end(call);
      return Promise.reject(error);
    }
    if (isNativePromise(result)) return result.then(this.#holderReturned, this.#holderThrew);
    if (!isPromiseLike(result)) {
      this.#end(call);
      return Promise.reject(new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', entry.where, describeResult(result)));
    }
    return Promise.resolve(result).then(this.#holderReturned, this.#holderThrew);
  }

  /** Runs the method in a turn; the promise settles after the turn ended. */
  #run(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined, body: TurnBody, beside: boolean): Promise<unknown> {
    call.state = 'running';
    if (beside) (this.#beside ??= new Set()).add(call);
    else {
      this.#holder = call;
      this.#holderWhere = entry.where;
    }
    // A reentrant monitor needs to know the chain a call comes from, and a concurrent one (a
    // channel) its current call, whether or not waits are tracked.
    const carry = tracksWaits() || this.plan.reentrant === 'chain' || this.plan.concurrent === true;
    if (monitorEventsHeard()) emitMonitorEvent({ kind: 'turn', monitor: this.label, method: call.method, thread: thisThread().name, call: call.id });
    let result: unknown;
    try {
      if (carry) {
        // The turn carries its call through every await, so the calls it makes are known as its waits.
        const store: AmbientContext = { token: context?.token ?? CancellationToken.none, job: context?.job, call };
        result = runInContext(store, () => body(this.#instance, entry.mark.original, args));
      } else {
        // Otherwise it runs under the caller's context (its token), which a queued or arrived call must restore.
        result = context === undefined || context === ambientContext() ? body(this.#instance, entry.mark.original, args) : runInContext(context, () => body(this.#instance, entry.mark.original, args));
      }
    } catch (error) {
      this.#end(call);
      return Promise.reject(error);
    }
    if (!isPromiseLike(result)) {
      this.#end(call);
      return Promise.reject(new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', entry.where, describeResult(result)));
    }
    const settled = Promise.resolve(result);
    // The holder is one call at a time: its handlers are made once per monitor, not per call.
    if (!beside) return settled.then(this.#holderReturned, this.#holderThrew);
    return settled.then(
      (value) => {
        this.#end(call);
        return passValue(value, entry.where, 'return value');
      },
      (error: unknown) => {
        this.#end(call);
        throw error;
      },
    );
  }

  /** The holder's method returned `value`: the turn ends, and the value is checked on its way out. */
  readonly #holderReturned = (value: unknown): unknown => {
    const call = this.#holder as MonitorCall;
    this.#end(call);
    return passValue(value, this.#holderWhere, 'return value');
  };

  readonly #holderThrew = (error: unknown): never => {
    this.#end(this.#holder as MonitorCall);
    throw error;
  };

  /** A turn ended: the monitor passes on once no turn of it runs. */
  #end(call: MonitorCall): void {
    if (this.#holder === call) this.#holder = undefined;
    else this.#beside?.delete(call);
    this.#forget(call);
    if (this.#holder === undefined && (this.#beside === undefined || this.#beside.size === 0) && this.plan.concurrent !== true) this.#turns.release();
  }

  /** The call left the graph: its caller no longer waits for it. */
  #forget(call: MonitorCall): void {
    call.state = 'ended';
    if (call.listed) deadlockDetector().calls.delete(call.id);
    call.caller?.stopWaitingFor(call.id);
  }

  #entryOf(method: string): MethodEntry {
    // A reference finds its methods' entries once (see `caller`); only served, stream and by-name calls look here per call.
    let entry = this.#methods.get(method);
    if (entry === undefined) {
      const mark = this.plan.methods.get(method) as MethodMark;
      entry = { mark, original: mark.original, method: mark.displayName, where: `${this.plan.className}.${mark.displayName}` };
      this.#methods.set(method, entry);
    }
    return entry;
  }
}

/** Who makes a call: its id in the graph, the caller's context and the turns it comes from. */
export interface CallOrigin {
  readonly id: number;
  /** The caller's ambient context: the call runs under its token. */
  readonly context: AmbientContext | undefined;
  /** The turn of this thread that made the call, if one did. */
  readonly caller: MonitorCall | undefined;
  /** Ids of the turns the call was made from, outermost first, when they are on another thread. */
  readonly chain: readonly number[] | undefined;
  /** The monitor of the turn that made it on another thread, as `Class#id`. */
  readonly callerMonitor: string | undefined;
  /** Whether it arrived from another thread, whose probes will name it by id. */
  readonly remote: boolean;
}

/** What a turn runs: the method itself, or for a stream call, the method and a subscription to its result. */
type TurnBody = (instance: object, original: (...args: unknown[]) => unknown, args: unknown[]) => unknown;

const callMethod: TurnBody = (instance, original, args) => original.apply(instance, args);

/** The error an argument of the call is refused with, if one is; checks (and takes transfers) in place. */
function refusedArgument(entry: MethodEntry, args: unknown[]): unknown {
  if (args.length === 0) return undefined;
  try {
    passArguments(entry.where, args);
    return undefined;
  } catch (error) {
    return error;
  }
}

function isSubscribable(value: unknown): value is Subscribable {
  return typeof value === 'object' && value !== null && typeof (value as Subscribable).subscribe === 'function';
}

interface MethodEntry {
  readonly mark: MethodMark;
  /** The mark's, at hand: the hot path reads them on every call. */
  readonly original: MethodMark['original'];
  readonly method: string;
  /** `Class.method`, for messages. */
  readonly where: string;
}

/** A promise of this realm as an async function returns it: `then` on it is what `Promise.resolve(it).then` would do. */
function isNativePromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise && value.constructor === Promise;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function describeResult(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  const name = typeof value === 'object' ? (value as object).constructor?.name || Object.prototype.toString.call(value).slice(8, -1) : typeof value;
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}
