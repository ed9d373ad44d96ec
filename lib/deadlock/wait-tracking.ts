import type { Observable } from 'rxjs';
import { runtime } from '../runtime';
import { transport } from '../threads/transport';
import { DeadlockDetector } from './detector';

/**
 * Whether this thread tracks waits for deadlock detection (on unless `configure({ deadlockDetection: false })`).
 *
 * Tracking carries each turn's identity through its awaits in Node's AsyncLocalStorage. On
 * Node 20 and 22 that makes every promise of the process slower once it is in use (Node 24's
 * AsyncContextFrame removes the cost); a program that must not pay it can turn tracking off
 * and live with deadlocks that hang, as on any other runtime.
 */
export function tracksWaits(): boolean {
  return runtime.poolOptions.deadlockDetection !== false;
}

/** This thread's part of the wait-for graph. */
export function deadlockDetector(): DeadlockDetector {
  return (runtime.deadlocks ??= new DeadlockDetector(runtime.threadId, runtime.threadName, (to, message) => transport().send(to, message)));
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

/** Tells this thread's listeners; costs a size check when nobody listens. */
export function emitMonitorEvent(event: MonitorEvent): void {
  if (runtime.monitorEventListeners.size === 0) return;
  for (const listener of runtime.monitorEventListeners) listener(event);
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
  const { monitorEventsAsObservable } = require('../rxjs/observable-bridge') as typeof import('../rxjs/observable-bridge');
  return monitorEventsAsObservable(runtime.monitorEventListeners);
}
