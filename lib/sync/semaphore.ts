import { DefinitionError } from '../errors/definition-error';
import { knownObjects } from '../shareability/known-objects';
import { acquirePermits, adoptCore, runHolding, type LockWaitOptions } from './lock-handles';
import type { Permit } from './permit';
import { SemaphoreCore } from './semaphore-core';

/**
 * Options of `semaphore.run()`.
 *
 * @example
 * ```ts
 * await downloads.run(() => fetchAll(urls), { count: 2 });
 * ```
 */
export interface SemaphoreRunOptions extends LockWaitOptions {
  /**
   * How many permits `run` holds while `fn` runs.
   * @default 1
   */
  readonly count?: number;
}

/**
 * A counting semaphore for code on any thread: at most `permits` held at a time; `acquire(count)`
 * waits until `count` are free, first come, first served (a large request is not overtaken by
 * smaller ones behind it). Shareable: pass it to children, monitors and actors on any thread.
 * Use it to bound how many do something at once: connections, downloads, memory-hungry jobs.
 *
 * It keeps every guarantee of {@link Lock}: `using` release, `run(fn)`, waits cancelled by
 * token with a `CancelledError`, permits of a thread that dies released, waits seen by the
 * deadlock detector when one monitor turn holds every permit held, and shown by `dumpMonitors()`.
 *
 * @example
 * ```ts
 * const connections = new Semaphore(4);
 * await branch((children) => {
 *   for (const url of urls) {
 *     children.add(async (limit: Semaphore, address: string) => {
 *       using _held = await limit.acquire();   // never more than 4 fetches at once
 *       return (await fetch(address)).status;
 *     }, connections, url);
 *   }
 * });
 * ```
 */
export class Semaphore {
  /** How many permits it has in all. */
  declare readonly permits: number;

  /** @param permits - how many may be held at once: a whole number from 1 up */
  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new DefinitionError('ERR_INVALID_OPTION', 'new Semaphore(permits)', 'permits', 'a whole number from 1 up', String(permits));
    }
    adoptCore(this, new SemaphoreCore(permits), permits, 'semaphore');
  }

  /**
   * Waits until `count` permits are free (1 unless told) and takes them; release the permit it
   * gives once, best with `using _held = await semaphore.acquire()`.
   * @param count - how many permits: a whole number from 1 to `permits`
   */
  acquire(options?: LockWaitOptions): Promise<Permit>;
  acquire(count: number, options?: LockWaitOptions): Promise<Permit>;
  acquire(countOrOptions: number | LockWaitOptions = 1, options: LockWaitOptions = {}): Promise<Permit> {
    if (typeof countOrOptions === 'object' && countOrOptions !== null) return acquirePermits(this, 1, countOrOptions);
    return acquirePermits(this, countOrOptions, options);
  }

  /** Runs `fn` holding `count` permits (1 unless told), and releases them when `fn` settles, whether it returns or throws. */
  run<R>(fn: () => R | PromiseLike<R>, options: SemaphoreRunOptions = {}): Promise<R> {
    return runHolding(this, options.count ?? 1, options, fn);
  }
}

knownObjects().addSelfProtectingClass(Semaphore);
