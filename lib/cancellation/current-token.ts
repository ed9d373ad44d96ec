import { AsyncLocalStorage } from 'node:async_hooks';
import { slot } from '../runtime';
import { CancellationToken } from './cancellation-token';

/** What runs now: its cancellation token, and the pool job it belongs to on a worker. */
export interface AmbientContext {
  readonly token: CancellationToken;
  readonly job?: number;
  /** The monitor call whose turn runs now, when one does: the calls it makes are its waits. */
  readonly call?: RunningTurn;
}

/**
 * The monitor call of the turn that runs now, as far as this layer knows it: a sleep is a wait
 * that ends by itself. The monitor layer reads the whole call (`callOf` in deadlock/monitor-call.ts).
 */
export interface RunningTurn {
  /** Waits of the turn that end by themselves, such as a sleep. */
  liveWaits: number;
}

/**
 * The running child's, call's or branch body's context, carried through awaits. It lives here,
 * below every layer that runs code under a context (scopes, monitors, workers' tasks), since the
 * token is what every one of them carries.
 */
const ambient = slot('ambient context', () => new AsyncLocalStorage<AmbientContext>());

/** The context of what runs now, if anything set one. */
export function ambientContext(): AmbientContext | undefined {
  return ambient().getStore();
}

/** Runs `run` under `context`, through all its awaits. */
export function runInContext<R>(context: AmbientContext, run: () => R): R {
  return ambient().run(context, run);
}

/**
 * Calls `method` on `self` with `args` under `context`: {@link runInContext} without a closure
 * made per call, for a monitor call's turn.
 */
export function applyInContext(context: AmbientContext, method: (...args: unknown[]) => unknown, self: object, args: unknown[]): unknown {
  return ambient().run(context, Reflect.apply, method, self, args);
}

/**
 * The cancellation token of what is running now: the branch body, the child, the task or the
 * monitor call, carried through awaits and across threads with each call. Outside all of them
 * it is `CancellationToken.none`.
 *
 * @example
 * ```ts
 * @monitorMethod async index(files: readonly string[]): Promise<number> {
 *   const token = currentToken();
 *   for (const file of files) {
 *     token.throwIfCancelled(); // the caller gave up: stop between files
 *     await this.add(file);
 *   }
 *   return files.length;
 * }
 * ```
 */
export function currentToken(): CancellationToken {
  return ambientContext()?.token ?? CancellationToken.none;
}
