import { DefinitionError } from '../errors/definition-error';
import { monitorClasses } from '../monitor/class-registry';
import { isStreamMethod, type MethodMark } from '../monitor/monitor-plan';
import { slot } from '../runtime';
import type { CheckedMonitorMethod } from '../shareability/shareable-type';
import type { MonitorMethodOptions } from '../types';
import { applyDecorator } from './apply-decorator';
import type { MethodDecoratorPlan } from './decorator-plan';
import { nameRule } from './options';

type Method = (...args: never[]) => unknown;

/** `@monitorMethod` applied directly, in either decorator mode. */
export interface MonitorMethodDecoratorFunction {
  /** TC39 standard decorators. */
  <F extends Method>(method: F & CheckedMonitorMethod<F>, context: ClassMethodDecoratorContext): void;
  /** Legacy `experimentalDecorators`. */
  <F extends Method>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<F & CheckedMonitorMethod<F>>): void;
}

/** The type of {@link monitorMethod}: a decorator, or a factory of one when given options. */
export interface MonitorMethodDecorator extends MonitorMethodDecoratorFunction {
  (options?: MonitorMethodOptions): MonitorMethodDecoratorFunction;
}

/**
 * Marks a method of a `@Monitor` class as callable through its references. Calls run one at a
 * time on the monitor's thread; arguments are checked for shareability before the call is
 * queued, the result before it is returned. Declare the method `async`: a parameter or result
 * type that is never shareable (`string[]`, `Map`, `Date`) is a compile error at the decorator.
 *
 * A method declared without `async` is a stream method: it returns an rxjs `Observable` of
 * shareable values. A call through a reference returns an Observable at once, on any thread;
 * each subscription runs the method in a turn on the monitor's thread (the turn ends once the
 * method's Observable is subscribed), values, error and completion arrive in order, and
 * unsubscribing reaches the producer's teardown. There is no backpressure: values are pushed
 * as they come; use a `Channel` when the producer must wait for the consumer. A method that
 * returns a promise but is declared without `async` is a stream method too, by mistake: awaiting
 * its call rejects with a `DefinitionError` (`ERR_STREAM_METHOD_AWAITED`) instead of resolving to
 * the Observable, and subscribing to it errors with `ERR_STREAM_METHOD_NOT_OBSERVABLE`.
 *
 * Works bare and as a factory, under TC39 standard decorators and legacy `experimentalDecorators`.
 *
 * @example
 * ```ts
 * @Monitor
 * class Counter {
 *   #count = 0;
 *   @monitorMethod async increment(): Promise<number> { return ++this.#count; }
 *   @monitorMethod({ name: 'read' }) async get(): Promise<number> { return this.#count; }
 *   @monitorMethod ticks(count: number): Observable<number> { return interval(10).pipe(take(count)); }
 * }
 * ```
 */
export const monitorMethod = function monitorMethod(...args: unknown[]): unknown {
  return applyDecorator(monitorMethodDecorator, args);
} as MonitorMethodDecorator;

const monitorMethodDecorator: MethodDecoratorPlan<MonitorMethodOptions> = {
  decorator: '@monitorMethod',
  target: 'method',
  fix: 'decorate a public async instance method with a string name',
  options: { name: nameRule },
  define(method, key, options) {
    const mark = markMethod(method, key, options);
    return {
      replacement: mark.installed,
      // Where the mode can, it tells at construction, before any call, that no @Monitor adopted the method.
      initialize: (instance) => {
        if (!constructedByMonitor(instance)) throw outsideMonitor(mark, instance);
      },
    };
  },
};

/**
 * Records the method and returns what replaces it on the prototype: a thin function that runs
 * the method directly. That is the `this.other()` path inside a turn, which must not queue
 * behind its own turn; calls through references run the recorded original instead.
 */
function markMethod(original: Function, key: string, options: MonitorMethodOptions): MethodMark & { installed: Function } {
  const mark: MethodMark & { installed: Function } = {
    original: original as MethodMark['original'],
    key,
    displayName: options.name ?? key,
    stream: isStreamMethod(original),
    installed: undefined as unknown as Function,
  };
  mark.installed = {
    [key](this: unknown, ...args: unknown[]): unknown {
      if (!constructedByMonitor(this)) throw outsideMonitor(mark, this);
      return original.apply(this, args);
    },
  }[key] as Function;
  methodMarks().add(mark.installed, mark);
  return mark;
}

/** The functions `@monitorMethod` installed on prototypes, with what it learned of each method: `@Monitor` collects them. */
class MethodMarks {
  readonly #marks = new WeakMap<Function, MethodMark>();

  add(installed: Function, mark: MethodMark): void {
    this.#marks.set(installed, mark);
  }

  get(installed: Function): MethodMark | undefined {
    return this.#marks.get(installed);
  }
}

/** This thread's method marks. */
export const methodMarks = slot('method marks', () => new MethodMarks());

/**
 * Whether `instance` was built by a @Monitor class: its constructor is registered from the start
 * of construction, so this holds inside the constructor too, and it fails for a plain instance of
 * a base class even when a @Monitor subclass adopted the same method.
 */
function constructedByMonitor(instance: unknown): boolean {
  const constructor = (instance as { constructor?: Function } | null | undefined)?.constructor;
  return constructor !== undefined && monitorClasses().has(constructor);
}

function outsideMonitor(mark: MethodMark, instance: unknown): DefinitionError {
  const className = (instance as { constructor?: Function } | undefined)?.constructor?.name ?? '(anonymous)';
  return new DefinitionError('ERR_MONITOR_METHOD_OUTSIDE_MONITOR', `${className}.${mark.key}`, className);
}
