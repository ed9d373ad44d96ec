import { codedError } from './coded-error';

/**
 * The thread running a child or a monitor died: an uncaught error at its top level,
 * `process.exit`, or running out of memory under `resourceLimits`. The child rejects with this
 * error; the pool replaces the thread.
 *
 * @example
 * ```ts
 * await branch((children) => children.add(crashes)).catch((error) => {
 *   if (error instanceof ThreadCrashError) console.error(error.message);
 * });
 * ```
 */
export class ThreadCrashError extends codedError(Error, 'ThreadCrashError') {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_THREAD_CRASH';

  /**
   * @param what - what was running, e.g. `'child crunch'`
   * @param how - how the thread ended, e.g. `'exit code 3'`
   */
  constructor(what: string, how: string, options?: ErrorOptions) {
    super('ERR_THREAD_CRASH', [what, how], options);
  }
}
