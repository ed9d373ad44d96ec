import type { Observable } from 'rxjs';
import { observables } from '../observables';
import { slot, thisThread } from '../runtime';
import { transport } from '../threads/transport';
import { DeadlockDetector } from './detector';

/**
 * How this thread tracks waits: whether it does, its part of the wait-for graph, and who listens
 * to its monitor events. The monitor layer reads all three on every call, so they live here, below
 * the options (threads/pool-options.ts) that turn tracking off.
 */
class WaitTracking {
  #on = true;
  #detector: DeadlockDetector | undefined;
  readonly #listeners = new Set<(event: MonitorEvent) => void>();

  get on(): boolean {
    return this.#on;
  }

  track(on: boolean): void {
    this.#on = on;
  }

  /** Made on first use, once the thread knows its name. */
  detector(): DeadlockDetector {
    return (this.#detector ??= new DeadlockDetector(thisThread().id, thisThread().name, (to, message) => transport().send(to, message)));
  }

  get heard(): boolean {
    return this.#listeners.size !== 0;
  }

  listen(listener: (event: MonitorEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: MonitorEvent): void {
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) listener(event);
  }
}

const waitTracking = slot('wait tracking', () => new WaitTracking());

/**
 * Whether this thread tracks waits for deadlock detection (on unless `configure({ deadlockDetection: false })`).
 *
 * Tracking carries each turn's identity through its awaits in Node's AsyncLocalStorage. On
 * Node 20 and 22 that makes every promise of the process slower once it is in use (Node 24's
 * AsyncContextFrame removes the cost); a program that must not pay it can turn tracking off
 * and live with deadlocks that hang, as on any other runtime.
 */
export function tracksWaits(): boolean {
  return waitTracking().on;
}

/** Turns tracking on or off: what `configure()` set, or on a worker what its start message says (threads/pool-options.ts). */
export function trackWaits(on: boolean): void {
  waitTracking().track(on);
}

/** This thread's part of the wait-for graph. */
export function deadlockDetector(): DeadlockDetector {
  return waitTracking().detector();
}

/**
 * What `monitorEvents()` reports: a turn starting, a call queueing, a call rejected to break a deadlock.
 *
 * @example
 * ```ts
 * monitorEvents().subscribe((event: MonitorEvent) => {
 *   if (event.kind === 'queued') console.log(`${event.monitor}.${event.method} waits`);
 * });
 * ```
 */
export type MonitorEvent =
  | { readonly kind: 'turn'; readonly monitor: string; readonly method: string; readonly thread: string; readonly call: number }
  | { readonly kind: 'queued'; readonly monitor: string; readonly method: string; readonly thread: string; readonly call: number }
  | {
      readonly kind: 'deadlock';
      readonly monitor: string;
      readonly method: string;
      readonly thread: string;
      readonly call: number;
      /** The {@link DeadlockError} the call rejected with. */
      readonly error: Error;
    };

/** Whether anyone on this thread listens to monitor events: events are made only then. */
export function monitorEventsHeard(): boolean {
  return waitTracking().heard;
}

/** Tells this thread's listeners; costs a size check when nobody listens. */
export function emitMonitorEvent(event: MonitorEvent): void {
  waitTracking().emit(event);
}

/**
 * The monitor events of this thread, for tools: each turn that starts, each call that must
 * queue, and each call rejected to break a deadlock. Events are made only while someone is
 * subscribed, so an unobserved program pays nothing. Each thread has its own stream; subscribe
 * on the thread whose monitors you watch (e.g. in an actor's constructor).
 *
 * @example
 * ```ts
 * const subscription = monitorEvents()
 *   .pipe(filter((event) => event.kind === 'deadlock'))
 *   .subscribe((event) => console.error(`deadlock broken at ${event.monitor}.${event.method}`));
 * ```
 */
export function monitorEvents(): Observable<MonitorEvent> {
  return observables('monitorEvents()').monitorEventsAsObservable<MonitorEvent>((listener) => waitTracking().listen(listener));
}
