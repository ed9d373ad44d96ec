import { formatMessage } from './codes';

/** One step of a wait-for cycle: a call that holds or waits, and where it runs. */
export interface DeadlockStep {
  /** The monitor, as `Class#id`. */
  readonly monitor: string;
  /** The method whose turn waits. */
  readonly method: string;
  /** The thread the monitor lives on, e.g. `'main'` or `'thread 3'`. */
  readonly thread: string;
}

/**
 * A wait would have closed a cycle of calls each waiting for the next, which could never end.
 * The call whose wait closed the cycle rejects with this error; the others proceed. The
 * message lists the cycle step by step and `cycle` carries it as data.
 *
 * @example
 * ```ts
 * await ping.start().catch((error) => {
 *   if (error instanceof DeadlockError) console.error(error.cycle.map((s) => s.monitor));
 * });
 * ```
 */
export class DeadlockError extends Error {
  override readonly name = 'DeadlockError';
  /** The stable code of this failure. */
  readonly code = 'ERR_DEADLOCK' as const;
  /** The cycle, starting with the call that was rejected. */
  readonly cycle: readonly DeadlockStep[];

  constructor(cycle: readonly DeadlockStep[], description: string) {
    super(formatMessage('ERR_DEADLOCK', description));
    this.cycle = cycle;
  }
}
