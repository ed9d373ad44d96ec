import { performance } from 'node:perf_hooks';
import { DefinitionError } from '../errors/definition-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { CancelledError } from '../errors/cancelled-error';
import { runtime, type AmbientContext } from '../runtime';
import { passArguments, passValue } from '../shareability/boundary';
import { CancellationToken } from '../cancellation/cancellation-token';
import { deadlockDetector, emitMonitorEvent, tracksWaits } from '../deadlock/wait-tracking';
import { callKey, type CalledMonitor, type MonitorCall } from '../deadlock/monitor-call';
import type { MonitorEndpoint } from './monitor-endpoint';
import type { MethodMark, MonitorPlan } from './monitor-plan';
import { TurnQueue } from './turn-queue';

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
  readonly running = new Set<MonitorCall>();
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

  /** Closes the monitor: calls still queued and every later call reject; a running turn finishes. */
  close(why: string): void {
    this.#closed ??= why;
  }

  /** A call through a reference on this thread: its caller is the turn running now, if any. */
  call(method: string, args: unknown[]): Promise<unknown> {
    const context = runtime.ambient.getStore();
    const caller = context?.call;
    const id = callKey(runtime.threadId, runtime.nextCallId++);
    return this.serve(method, args, { id, context, caller, chain: caller?.chain });
  }

  /** Runs a call, whether made here or arrived from another thread. */
  serve(method: string, args: unknown[], origin: CallOrigin): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(new MonitorClosedError(this.label, this.#closed));
    const entry = this.#entryOf(method);
    try {
      passArguments(entry.where, args);
    } catch (error) {
      return Promise.reject(error);
    }
    const call: MonitorCall = {
      id: origin.id,
      monitor: this,
      method: entry.mark.displayName,
      chain: origin.chain === undefined ? [origin.id] : [...origin.chain, origin.id],
      caller: origin.caller,
      state: 'queued',
      queuedAt: 0,
      outgoing: new Map(),
      liveWaits: 0,
      withdraw: undefined,
    };
    origin.caller?.outgoing.set(call.id, { thread: runtime.threadId, monitor: this.label, method: call.method });
    if (this.#turns.free) {
      this.#turns.hold();
      return this.#run(call, entry, args, origin.context);
    }
    if (this.plan.reentrant === 'chain' && this.#heldByChainOf(origin.chain)) return this.#run(call, entry, args, origin.context);
    return this.#queue(call, entry, args, origin.context);
  }

  /** Whether a turn running here is one of the calls the new call was made from. */
  #heldByChainOf(chain: readonly number[] | undefined): boolean {
    if (chain === undefined) return false;
    for (const turn of this.running) if (chain.includes(turn.id)) return true;
    return false;
  }

  /**
   * A call that must wait for the monitor. It runs later under the caller's context (its token),
   * not the context of whichever turn releases the monitor. It leaves the queue with a
   * {@link CancelledError} if its token is cancelled while it waits, or with a
   * {@link DeadlockError} if its wait closes a cycle.
   */
  #queue(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined): Promise<unknown> {
    const token = context?.token;
    const cancelled = (reason: unknown) => new CancelledError(reason, `${entry.where} (waiting for ${this.label})`);
    if (token?.cancelled) {
      this.#forget(call);
      return Promise.reject(cancelled(token.reason));
    }
    (call as { queuedAt: number }).queuedAt = performance.timeOrigin + performance.now();
    return new Promise((resolve, reject) => {
      let withdrawn = false;
      const withdraw = (error: Error) => {
        if (withdrawn) return;
        withdrawn = true;
        stopWatching?.();
        this.queued.delete(call);
        this.#forget(call);
        if (runtime.monitorEventListeners.size !== 0 && error.name === 'DeadlockError') emitMonitorEvent({ kind: 'deadlock', monitor: this.label, method: call.method, thread: runtime.threadName, call: call.id, error });
        reject(error);
      };
      call.withdraw = withdraw;
      const stopWatching = token?.onCancel((reason) => withdraw(cancelled(reason)));
      this.queued.add(call);
      const detector = tracksWaits() ? deadlockDetector() : undefined;
      detector?.calls.set(call.id, call);
      this.#turns.enter(() => {
        // The token may have been cancelled on another thread a moment ago, before this thread heard of it.
        if (!withdrawn && token?.cancelled) withdraw(cancelled(token.reason));
        if (withdrawn) {
          this.#turns.release();
          return;
        }
        stopWatching?.();
        call.withdraw = undefined;
        this.queued.delete(call);
        if (this.#closed !== undefined) {
          this.#forget(call);
          this.#turns.release();
          reject(new MonitorClosedError(this.label, this.#closed));
          return;
        }
        this.#run(call, entry, args, context).then(resolve, reject);
      });
      if (call.state === 'queued' && !withdrawn) {
        if (runtime.monitorEventListeners.size !== 0) emitMonitorEvent({ kind: 'queued', monitor: this.label, method: call.method, thread: runtime.threadName, call: call.id });
        detector?.queued(call);
      }
    });
  }

  /** Runs the method in a turn; the promise settles after the turn ended. */
  #run(call: MonitorCall, entry: MethodEntry, args: unknown[], context: AmbientContext | undefined): Promise<unknown> {
    call.state = 'running';
    this.running.add(call);
    if (tracksWaits()) deadlockDetector().calls.set(call.id, call);
    // A reentrant monitor needs to know the chain a call comes from, whether or not waits are tracked.
    const carry = tracksWaits() || this.plan.reentrant === 'chain';
    if (runtime.monitorEventListeners.size !== 0) emitMonitorEvent({ kind: 'turn', monitor: this.label, method: call.method, thread: runtime.threadName, call: call.id });
    let result: unknown;
    try {
      // The turn carries its call through every await, so the calls it makes are known as its waits.
      result = carry
        ? runtime.ambient.run({ token: context?.token ?? CancellationToken.none, job: context?.job, call }, () => entry.mark.original.apply(this.#instance, args))
        : entry.mark.original.apply(this.#instance, args);
    } catch (error) {
      this.#end(call);
      return Promise.reject(error);
    }
    if (!isPromiseLike(result)) {
      this.#end(call);
      return Promise.reject(new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', entry.where, describeResult(result)));
    }
    return Promise.resolve(result).then(
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

  /** A turn ended: the monitor passes on once no turn of it runs. */
  #end(call: MonitorCall): void {
    this.running.delete(call);
    this.#forget(call);
    if (this.running.size === 0) this.#turns.release();
  }

  /** The call left the graph: its caller no longer waits for it. */
  #forget(call: MonitorCall): void {
    if (tracksWaits()) deadlockDetector().calls.delete(call.id);
    call.caller?.outgoing.delete(call.id);
  }

  #entryOf(method: string): MethodEntry {
    let entry = this.#methods.get(method);
    if (entry === undefined) {
      const mark = this.plan.methods.get(method) as MethodMark;
      entry = { mark, where: `${this.plan.className}.${mark.displayName}` };
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
  /** Ids of the turns the call was made from, outermost first. */
  readonly chain: readonly number[] | undefined;
}

interface MethodEntry {
  readonly mark: MethodMark;
  /** `Class.method`, for messages. */
  readonly where: string;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function describeResult(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
