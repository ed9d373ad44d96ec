import type { ResourceLimits } from 'node:worker_threads';
import { DefinitionError } from '../errors/definition-error';
import { runtime } from '../runtime';
import { ThreadPool } from './pool';
import { closeAllActors } from './spawn';

/**
 * How the worker pool runs, set by the user: `configure` and `shutdown`.
 */

/** Options of {@link configure}. */
export interface PoolOptions {
  /**
   * How many worker threads children may use at once.
   * @default os.availableParallelism()
   */
  readonly threads?: number;
  /** Memory limits of each worker (see `worker_threads.ResourceLimits`); a worker over them crashes its child. */
  readonly resourceLimits?: ResourceLimits;
  /**
   * How long an idle worker is kept before it is ended.
   * @default 10_000
   */
  readonly idleTimeoutMs?: number;
  /**
   * Whether monitor calls are tracked in the wait-for graph, so that a deadlock rejects one call
   * with a `DeadlockError` instead of hanging. Set it before starting threads: workers take the
   * setting when they start.
   *
   * Tracking carries each turn's identity through its awaits with Node's AsyncLocalStorage. On
   * Node 20 and 22 that makes every promise of the process about 2-3x slower once in use (a few
   * hundred nanoseconds per await); Node 24's AsyncContextFrame removes that cost. Turn it off
   * only for code that is proven free of deadlocks and must not pay it.
   * @default true
   */
  readonly deadlockDetection?: boolean;
}

/**
 * Sets how the worker pool runs. May be called at any time: new limits apply to threads started
 * from then on.
 *
 * @example
 * ```ts
 * configure({ threads: 4, idleTimeoutMs: 1000, resourceLimits: { maxOldGenerationSizeMb: 256 } });
 * ```
 */
export function configure(options: PoolOptions): void {
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'threads', 'a whole number from 1 up', String(threads));
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && (typeof idle !== 'number' || !(idle >= 0))) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'idleTimeoutMs', 'a number of milliseconds from 0 up', String(idle));
  }
  const detection = options.deadlockDetection;
  if (detection !== undefined && typeof detection !== 'boolean') {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'deadlockDetection', 'true or false', String(detection));
  }
  runtime.poolOptions = { ...runtime.poolOptions, ...options };
  if (runtime.pool instanceof ThreadPool) runtime.pool.reconfigure(options);
}

/**
 * Ends every worker thread of the pool and every spawned actor. Children still running reject;
 * calls to monitors on those threads reject with `MonitorClosedError`; the next branch starts a
 * new pool. Not needed for a program to exit (an idle pool never holds it open), but useful in tests.
 *
 * @example
 * ```ts
 * afterAll(() => shutdown());
 * ```
 */
export async function shutdown(): Promise<void> {
  const current = runtime.pool;
  runtime.pool = undefined;
  await Promise.all([current instanceof ThreadPool ? current.close() : undefined, closeAllActors()]);
}
