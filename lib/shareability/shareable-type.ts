import type { SharedPrimitive } from '../types';

/**
 * The shareability rules as types, so that a monitor method declared with a parameter or result
 * that can never cross threads is a compile error at the decorator, in both decorator modes.
 *
 * The type system cannot see everything the run-time check sees (it cannot tell a frozen object
 * from a mutable one, nor a monitor reference from its class type), so these rules refuse only
 * what is never shareable: mutable arrays, Map and friends, functions, symbols. The run-time
 * check remains the full rule.
 */

/** Built-ins that no freezing makes shareable. */
type NeverShareable =
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | WeakMap<object, unknown>
  | WeakSet<object>
  | Date
  | RegExp
  | Promise<unknown>
  | symbol;

type AnyFunction = (...args: never[]) => unknown;

/**
 * Why `T` can never be shareable, as a readable string literal, or `never` when it may be.
 * `any` and `unknown` pass: the run-time check judges them.
 */
export type NotShareableReason<T> = 0 extends 1 & T
  ? never
  : unknown extends T
    ? never
    : T extends SharedPrimitive
      ? never
      : T extends NeverShareable
        ? 'a Map, Set, WeakMap, WeakSet, Date, RegExp, Promise or symbol is never shareable'
        : T extends AnyFunction
          ? 'a function is never shareable'
          : T extends readonly unknown[]
            ? // A mutable array type is refused: declare `readonly T[]`, which freeze() returns.
              T extends unknown[]
              ? 'a mutable array type is not shareable: declare it readonly T[]'
              : NotShareableReason<T[number]>
            : T extends object
              ? // A type with methods is a class type: a monitor (whose fields no caller can reach) or a
                // @shareable value. The type system cannot tell which, so the run-time check judges it.
                [MethodKeys<T>] extends [never]
                ? { [K in keyof T]-?: NotShareableReason<T[K]> }[keyof T]
                : never
              : never;

/** The keys of `T` whose values are functions. */
type MethodKeys<T> = { [K in keyof T]-?: T[K] extends AnyFunction ? K : never }[keyof T];

/** The first reason any of the parameters `A` is not shareable. */
type ParametersReason<A extends readonly unknown[]> = Exclude<{ [K in keyof A]-?: NotShareableReason<A[K]> }[number], undefined>;

/** What a monitor method's promise (or stream) carries. */
type Delivered<R> = R extends PromiseLike<infer V> ? V : R extends { subscribe(observer: never): unknown } ? ObservedValue<R> : never;
type ObservedValue<R> = R extends { subscribe(observer: (value: infer V) => void): unknown } ? V : unknown;
type ReturnsPromiseOrObservable<R> = R extends PromiseLike<unknown> ? true : R extends { subscribe(...args: never[]): unknown } ? true : false;

/**
 * `unknown` when `F` is a valid monitor method; otherwise an object type whose one property
 * names the problem, so the compiler's message says what is wrong.
 */
export type CheckedMonitorMethod<F> = F extends (...args: infer A) => infer R
  ? [ParametersReason<A>] extends [never]
    ? ReturnsPromiseOrObservable<R> extends true
      ? [NotShareableReason<Delivered<R>>] extends [never]
        ? unknown
        : { 'the return type of this monitor method is not shareable': NotShareableReason<Delivered<R>> }
      : { 'a monitor method must be async (return a Promise) or return an Observable': R }
    : { 'a parameter type of this monitor method is not shareable': ParametersReason<A> }
  : never;

/** `unknown` when a monitor class's constructor parameters are all shareable. */
export type CheckedMonitorClass<C> = C extends abstract new (...args: infer A) => unknown
  ? [ParametersReason<A>] extends [never]
    ? unknown
    : { 'a constructor parameter type of this monitor is not shareable': ParametersReason<A> }
  : never;
