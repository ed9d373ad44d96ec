import type { Observable, Subscriber } from 'rxjs';
import { DefinitionError } from '../errors/definition-error';
import type { StreamObserver } from '../types';

/**
 * Where safethread meets rxjs: the one module that loads it, only when a feature that needs it is
 * used, so the core never depends on it. rxjs is an optional peer dependency: when it is not
 * installed, those features fail with a DefinitionError that says so, and nothing else notices.
 *
 * The core never imports this module either: it is the `ObservableBridge` (lib/types.ts) that the
 * start-up files say how to load (lib/observables.ts), and is loaded when an Observable is first made.
 */

/** What the Observables of streams are for, as the error names them when rxjs is missing. */
const streams = 'children.results() or a stream monitor method';

/** rxjs, as the application installed it; a clear error naming `feature` when it did not. */
function rxjs(feature: string): typeof import('rxjs') {
  try {
    return require('rxjs') as typeof import('rxjs');
  } catch (error) {
    // rxjs found but failing as it loads (a broken install, a dependency of its own missing) is
    // its own error; only rxjs not found at all is told apart.
    if (resolvable('rxjs')) throw error;
    const missing = new DefinitionError('ERR_RXJS_MISSING', feature);
    Object.defineProperty(missing, 'cause', { value: error, writable: true, configurable: true });
    throw missing;
  }
}

function resolvable(module: string): boolean {
  try {
    require.resolve(module);
    return true;
  } catch {
    return false;
  }
}

/** The token as an Observable: emits the reason once, when cancelled, then completes. */
export function tokenAsObservable(token: { onCancel(callback: (reason: unknown) => void): () => void }): Observable<unknown> {
  const { Observable } = rxjs('CancellationToken.asObservable()');
  return new Observable<unknown>((subscriber) =>
    token.onCancel((reason) => {
      subscriber.next(reason);
      subscriber.complete();
    }),
  );
}

/** This thread's monitor events as an Observable: listens while subscribed. */
export function monitorEventsAsObservable<E>(listen: (listener: (event: E) => void) => () => void): Observable<E> {
  const { Observable } = rxjs('monitorEvents()');
  return new Observable<E>((subscriber) => listen((event: E) => subscriber.next(event)));
}

/** A stream call as an Observable: `start` runs for each subscription and returns its teardown. */
export function streamAsObservable(start: (observer: StreamObserver) => () => void): Observable<unknown> {
  const { Observable } = rxjs(streams);
  return new Observable<unknown>((subscriber) => start(subscriber));
}

/** A subscriber that forwards to `observer` and can be unsubscribed before `subscribe` returns. */
export function innerSubscriber(observer: StreamObserver): Subscriber<unknown> & { unsubscribe(): void } {
  const { Subscriber } = rxjs(streams);
  return new Subscriber<unknown>({ next: (value) => observer.next(value), error: (error: unknown) => observer.error(error), complete: () => observer.complete() });
}
