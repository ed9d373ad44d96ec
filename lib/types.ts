import type { Observable, Subscriber } from 'rxjs';

/**
 * Public types of safethread, in one type-only module.
 *
 * Implementations import their option and value types from here, which keeps the import graph
 * acyclic; the long explanations live here too, next to the names users see.
 */

/** Values that are shareable as they are: they cannot change. `symbol` is not one of them. */
export type SharedPrimitive = undefined | null | boolean | number | bigint | string;

/**
 * A value that may cross between threads, as far as the type system can say: primitives and
 * readonly arrays and records of shareable values. Monitor references, `@shareable` instances
 * and shared memory are shareable too; {@link isShareable} is the full run-time rule.
 *
 * @example
 * ```ts
 * const point: Shareable = freeze({ x: 1, y: 2 });
 * ```
 */
export type Shareable = SharedPrimitive | ShareableArray | ShareableRecord;

/** A readonly array of shareable values. */
export interface ShareableArray extends ReadonlyArray<Shareable> {}

/** A readonly record of shareable values. */
export interface ShareableRecord {
  readonly [key: string]: Shareable;
}

/**
 * `T` made readonly all the way down: what {@link freeze} returns.
 *
 * @example
 * ```ts
 * const order: Immutable<{ lines: { sku: string }[] }> = freeze({ lines: [{ sku: 'A1' }] });
 * order.lines.push({ sku: 'B2' }); // compile error: push does not exist on a readonly array
 * ```
 */
export type Immutable<T> = T extends SharedPrimitive | symbol
  ? T
  : // Functions keep their type: the run-time check refuses them with a clear message.
    T extends (...args: never[]) => unknown
    ? T
    : T extends readonly unknown[]
      ? // An array of unknown length goes through an interface, which TypeScript resolves lazily,
        // so that recursive types (JSON-like unions) do not hit the instantiation depth limit.
        number extends T['length']
        ? ImmutableArray<T[number]>
        : { readonly [K in keyof T]: Immutable<T[K]> }
      : { readonly [K in keyof T]: Immutable<T[K]> };

/** A readonly array of immutable elements: part of {@link Immutable}. */
export interface ImmutableArray<U> extends ReadonlyArray<Immutable<U>> {}

/**
 * Options of `@Monitor({...})`.
 *
 * @example
 * ```ts
 * @Monitor({ reentrant: 'chain', name: 'Inventory' })
 * class Inventory { ... }
 * ```
 */
export interface MonitorOptions {
  /**
   * Whether a call may enter while the monitor is held. `false`: calls wait their turn; the
   * monitor is held from a method's start until its promise settles (awaits included), like an
   * Orleans grain turn. `'chain'`: a call that belongs to the call chain holding the monitor
   * enters at once, so A -> B -> A completes.
   * @default false
   */
  readonly reentrant?: false | 'chain';
  /**
   * The monitor's name in messages, dumps and across threads.
   * @default the class name
   */
  readonly name?: string;
}

/**
 * Options of `@monitorMethod({...})`.
 *
 * @example
 * ```ts
 * @monitorMethod({ name: 'deposit' })
 * async credit(amount: number): Promise<void> { ... }
 * ```
 */
export interface MonitorMethodOptions {
  /**
   * The method's name in messages and dumps.
   * @default the method name
   */
  readonly name?: string;
}

/**
 * Options of `@shareable({...})`.
 *
 * @example
 * ```ts
 * @shareable({ name: 'geometry.Point' })
 * class Point { constructor(readonly x: number, readonly y: number) {} }
 * ```
 */
export interface ShareableOptions {
  /**
   * The class's name in messages, and the key that finds the class on another thread. Give
   * one when two shareable classes share a class name.
   * @default the class name
   */
  readonly name?: string;
}

/** The three signals of a stream, as rxjs's Observer has them; `closed` once its subscriber is done. Internal. */
export interface StreamObserver {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
  readonly closed?: boolean;
}

/**
 * The rxjs adapter (lib/rxjs/observable-bridge.ts), as the core calls it; internal. The start-up
 * files say how to load it (`installObservables` in lib/observables.ts), so that no layer below them
 * imports it, and it is loaded, with rxjs, only when an Observable is first made: a program that
 * makes none never loads either.
 */
export interface ObservableBridge {
  /** A token as an Observable: emits the reason once, when cancelled, then completes. */
  tokenAsObservable(token: { onCancel(callback: (reason: unknown) => void): () => void }): Observable<unknown>;
  /** This thread's monitor events as an Observable: listens while subscribed (`listen` returns what stops listening). */
  monitorEventsAsObservable<E>(listen: (listener: (event: E) => void) => () => void): Observable<E>;
  /** A stream call as an Observable: `start` runs for each subscription and returns its teardown. */
  streamAsObservable(start: (observer: StreamObserver) => () => void): Observable<unknown>;
  /** A subscriber that forwards to `observer` and can be unsubscribed before `subscribe` returns. */
  innerSubscriber(observer: StreamObserver): Subscriber<unknown> & { unsubscribe(): void };
}
