import { DefinitionError } from '../errors/definition-error';
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
 */
export class LocalMonitor implements MonitorEndpoint {
  readonly #instance: object;
  readonly #turns = new TurnQueue();

  constructor(
    instance: object,
    readonly plan: MonitorPlan,
    readonly label: string,
  ) {
    this.#instance = instance;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    const mark = this.plan.methods.get(method) as MethodMark;
    const where = `${this.plan.className}.${mark.displayName}`;
    try {
      passArguments(where, args);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#turns.enter((release) => this.#runTurn(mark, args, where, resolve, reject, release));
    });
  }

  #runTurn(
    mark: MethodMark,
    args: unknown[],
    where: string,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    release: () => void,
  ): void {
    let result: unknown;
    try {
      result = mark.original.apply(this.#instance, args);
    } catch (error) {
      release();
      reject(error);
      return;
    }
    if (!isPromiseLike(result)) {
      release();
      reject(new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', where, describeResult(result)));
      return;
    }
    result.then(
      (value) => {
        release();
        try {
          resolve(passValue(value, `${where}: return value`));
        } catch (error) {
          reject(error);
        }
      },
      (error: unknown) => {
        release();
        reject(error);
      },
    );
  }
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
