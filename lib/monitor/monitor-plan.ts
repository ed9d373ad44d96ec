import type { ClassLocation } from '../threads/protocol';

/**
 * What the decorators learn about a monitor class once, at definition, so that no call has to
 * work it out again: its name, its monitor methods and its options.
 */

/** What `@monitorMethod` records about one method. */
export interface MethodMark {
  /** The user's method, run inside turns. */
  readonly original: (...args: unknown[]) => unknown;
  /** The property name callers use. */
  readonly key: string;
  /** The name in messages: the `name` option, or the key. */
  readonly displayName: string;
  /**
   * Whether it is a stream method: declared without `async`, it returns an Observable, and a
   * call through a reference returns an Observable at once, whose subscriptions run the method.
   */
  readonly stream: boolean;
}

/** What `@Monitor` records about a class. */
export interface MonitorPlan {
  /** The name in messages: the `name` option, or the class name. */
  readonly className: string;
  /** Where another thread finds the class; unset for a class known only from another thread's reference. */
  readonly location: ClassLocation | undefined;
  /** Every monitor method reachable on an instance, by key, the most derived first. */
  readonly methods: ReadonlyMap<string, MethodMark>;
  readonly reentrant: false | 'chain';
  /**
   * Calls never queue and never hold the monitor (internal: a channel's core, whose waits must
   * not block the calls that end them). Its methods keep their state consistent between awaits.
   */
  concurrent?: boolean;
  /** The class the user wrote. */
  readonly original: Function;
  /** The class that replaces it: `new` on it returns a reference. */
  decorated?: Function;
}

/**
 * Whether a method is a stream method: one not declared `async`. Async methods compiled for
 * targets older than ES2017 are plain functions calling a helper; those count as async too.
 */
export function isStreamMethod(method: Function): boolean {
  const kind = Object.prototype.toString.call(method);
  if (kind === '[object AsyncFunction]' || kind === '[object AsyncGeneratorFunction]') return false;
  const source = Function.prototype.toString.call(method);
  // TypeScript's, Babel's and esbuild's helpers for async functions on old targets.
  return !source.includes('__awaiter(') && !source.includes('asyncToGenerator(') && !source.includes('__async(');
}

/**
 * Finds the monitor methods of a class: own and inherited prototype methods that carry a mark.
 * A subclass's method shadows its base's, as in plain JavaScript.
 */
export function collectMonitorMethods(
  prototype: object,
  marks: { get(method: Function): MethodMark | undefined },
): Map<string, MethodMark> {
  const methods = new Map<string, MethodMark>();
  for (let level: object | null = prototype; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
    for (const key of Object.getOwnPropertyNames(level)) {
      if (methods.has(key) || key === 'constructor') continue;
      const descriptor = Object.getOwnPropertyDescriptor(level, key);
      const mark = typeof descriptor?.value === 'function' ? marks.get(descriptor.value as Function) : undefined;
      if (mark !== undefined) methods.set(key, mark);
    }
  }
  return methods;
}
