import { Observable, Subscriber } from 'rxjs';
import type { CancellationToken } from '../cancellation/cancellation-token';
import type { MonitorEvent } from '../deadlock/wait-tracking';
import type { StreamObserver } from '../monitor/monitor-endpoint';

/**
 * Where safethread meets rxjs: the one module that imports it, loaded only when a feature that
 * needs rxjs is used, so the core never depends on it.
 */

/** The token as an Observable: emits the reason once, when cancelled, then completes. */
export function tokenAsObservable(token: CancellationToken): Observable<unknown> {
  return new Observable<unknown>((subscriber) =>
    token.onCancel((reason) => {
      subscriber.next(reason);
      subscriber.complete();
    }),
  );
}

/** This thread's monitor events as an Observable: listens while subscribed. */
export function monitorEventsAsObservable(listeners: Set<(event: MonitorEvent) => void>): Observable<MonitorEvent> {
  return new Observable<MonitorEvent>((subscriber) => {
    const listener = (event: MonitorEvent) => subscriber.next(event);
    listeners.add(listener);
    return () => listeners.delete(listener);
  });
}

/** A stream call as an Observable: `start` runs for each subscription and returns its teardown. */
export function streamAsObservable(start: (observer: StreamObserver) => () => void): Observable<unknown> {
  return new Observable<unknown>((subscriber) => start(subscriber));
}

/** A subscriber that forwards to `observer` and can be unsubscribed before `subscribe` returns. */
export function innerSubscriber(observer: StreamObserver): Subscriber<unknown> & { unsubscribe(): void } {
  return new Subscriber<unknown>({ next: (value) => observer.next(value), error: (error: unknown) => observer.error(error), complete: () => observer.complete() });
}
