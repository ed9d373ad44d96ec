import { trackWaits } from '../deadlock/wait-tracking';
import { slot } from '../runtime';
import type { PoolOptions } from './configure';
import type { WorkerStart } from './protocol';

/**
 * What `configure()` set on this thread, for the pool and the threads it starts. A worker starts
 * from its start message instead, which says only whether to track waits: the pool and its
 * threads are the main thread's.
 *
 * Whether waits are tracked is told on to deadlock/wait-tracking.ts, which the monitor layer reads
 * on every call, below this layer.
 */
export class Configuration {
  #options: PoolOptions = {};

  get options(): PoolOptions {
    return this.#options;
  }

  /** `configure(options)`: the options given, over those set before. */
  update(options: PoolOptions): void {
    this.#set({ ...this.#options, ...options });
  }

  /** A worker takes what its start message says. */
  adoptWorkerStart(start: WorkerStart): void {
    this.#set({ deadlockDetection: start.deadlockDetection });
  }

  /** Puts back options read earlier, as they were (a test that changed them). */
  restore(options: PoolOptions): void {
    this.#set(options);
  }

  #set(options: PoolOptions): void {
    this.#options = options;
    trackWaits(options.deadlockDetection !== false);
  }
}

/** This thread's configuration. */
export const configuration = slot('pool options', () => new Configuration());
