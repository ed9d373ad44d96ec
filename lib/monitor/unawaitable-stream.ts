import { DefinitionError } from '../errors/definition-error';

/**
 * A stream call's Observable made impossible to await by mistake.
 *
 * A `@monitorMethod` declared without `async` is a stream method: a call returns an Observable at
 * once and the method runs only when it is subscribed. A method written as
 * `add(n: number): Promise<number> { return Promise.resolve(n); }` is one too, so
 * `await counter.add(1)` would resolve to the Observable and the method would never run. The
 * Observable's own `then` turns that into a rejection with a {@link DefinitionError} that says
 * why. Only `await` (and `Promise.resolve`, `Promise.all`, returning it from an async function)
 * call `then`: rxjs takes an Observable as an Observable before it looks for `then`, so
 * `firstValueFrom`, `lastValueFrom`, `from` and operators work as before.
 */
export function unawaitable<T extends object>(stream: T, where: string): T {
  Object.defineProperty(stream, 'then', {
    // Behaves as a promise already rejected: the error is made only when someone awaits.
    value: function then(onFulfilled?: (value: never) => unknown, onRejected?: (reason: unknown) => unknown): Promise<unknown> {
      return Promise.reject(new DefinitionError('ERR_STREAM_METHOD_AWAITED', where)).then(onFulfilled, onRejected);
    },
    configurable: true,
    writable: true,
  });
  return stream;
}
