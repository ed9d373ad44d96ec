import { DefinitionError } from '../errors/definition-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { CancelledError } from '../errors/cancelled-error';
import { runtime } from '../runtime';
import { passArguments, passValue } from '../shareability/boundary';
import type { MonitorEndpoint } from './monitor-endpoint';
import type { MethodMark, MonitorPlan } from './monitor-plan';
import { TurnQueue } from './turn-queue';

/**
 * A monitor on the thread that owns it: the real instance and the queue of turns that runs its
 * methods one at a time.
 *
 * Non-reentrant by default: a turn holds the monitor from the method's start until its promise
 * settles, awaits included, so no other call can see the state half-way through a method.
 *
 * A call to a free monitor starts its turn at once and returns the method's own promise chained
 * once; only a call that must wait is wrapped in a promise of its own and queued. Both paths run
 * the same steps in the same order, so which one a call takes cannot be observed.
 */
export class LocalMonitor implements MonitorEndpoint {
  readonly #instance: object;
  readonly #turns = new TurnQueue();
  /** Per method, the turn's ending, made once: a non-reentrant monitor has one turn at a time. */
  readonly #endings = new Map<string, TurnEnding>();
  /** Why the monitor was closed; calls from then on reject with {@link MonitorClosedError}. */
  #closed: string | undefined;
  /** The reference `new` returned, which stands for this monitor wherever it goes. */
  reference: object | undefined;

  constructor(
    instance: object,
    readonly plan: MonitorPlan,
    readonly id: number,
  ) {
    this.#instance = instance;
    this.label = `${plan.className}#${id}`;
  }

  readonly label: string;

  /** Closes the monitor: calls still queued and every later call reject; a running turn finishes. */
  close(why: string): void {
    this.#closed ??= why;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.#closed !== undefined) return Promise.reject(new MonitorClosedError(this.label, this.#closed));
    const ending = this.#endingOf(method);
    try {
      passArguments(ending.where, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#turns.free) {
      this.#turns.hold();
      return this.#start(ending, args);
    }
    return this.#queue(ending, args);
  }

  /**
   * A call that must wait for the monitor. It runs later under the caller's context (its token),
   * not the context of whichever turn releases the monitor; if its token is cancelled while it
   * waits, it leaves the queue with a {@link CancelledError} and never runs.
   */
  #queue(ending: TurnEnding, args: unknown[]): Promise<unknown> {
    const context = runtime.ambient.getStore();
    const token = context?.token;
    if (token?.cancelled) return Promise.reject(new CancelledError(token.reason, `${ending.where} (waiting for ${this.label})`));
    return new Promise((resolve, reject) => {
      let withdrawn = false;
      const stopWatching = token?.onCancel((reason) => {
        withdrawn = true;
        reject(new CancelledError(reason, `${ending.where} (waiting for ${this.label})`));
      });
      this.#turns.enter(() => {
        stopWatching?.();
        // The token may have been cancelled on another thread a moment ago, before this thread heard of it.
        if (!withdrawn && token?.cancelled) {
          withdrawn = true;
          reject(new CancelledError(token.reason, `${ending.where} (waiting for ${this.label})`));
        }
        if (withdrawn) {
          this.#turns.release();
          return;
        }
        if (this.#closed !== undefined) {
          this.#turns.release();
          reject(new MonitorClosedError(this.label, this.#closed));
          return;
        }
        const run = () => this.#start(ending, args).then(resolve, reject);
        if (context === undefined) run();
        else runtime.ambient.run(context, run);
      });
    });
  }

  /** Runs the method in a turn the caller already holds; the promise settles after the turn ended. */
  #start(ending: TurnEnding, args: unknown[]): Promise<unknown> {
    let result: unknown;
    try {
      result = ending.mark.original.apply(this.#instance, args);
    } catch (error) {
      this.#turns.release();
      return Promise.reject(error);
    }
    if (result instanceof Promise) return result.then(ending.onValue, ending.onError);
    if (isPromiseLike(result)) return Promise.resolve(result).then(ending.onValue, ending.onError);
    this.#turns.release();
    return Promise.reject(new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', ending.where, describeResult(result)));
  }

  #endingOf(method: string): TurnEnding {
    let ending = this.#endings.get(method);
    if (ending === undefined) {
      const mark = this.plan.methods.get(method) as MethodMark;
      const where = `${this.plan.className}.${mark.displayName}`;
      ending = {
        mark,
        where,
        onValue: (value) => {
          this.#turns.release();
          return passValue(value, where, 'return value');
        },
        onError: (error) => {
          this.#turns.release();
          throw error;
        },
      };
      this.#endings.set(method, ending);
    }
    return ending;
  }
}

interface TurnEnding {
  readonly mark: MethodMark;
  /** `Class.method`, for messages. */
  readonly where: string;
  onValue(value: unknown): unknown;
  onError(error: unknown): never;
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
