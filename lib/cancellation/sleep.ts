import { CancelledError } from '../errors/cancelled-error';
import { runtime } from '../runtime';

/** Options of {@link sleep}. */
export interface SleepOptions {
  /**
   * Ends the sleep early with a {@link CancelledError} when it aborts.
   * @default the running child's or branch's own signal, if any
   */
  readonly signal?: AbortSignal;
}

/**
 * Waits `ms` milliseconds, or until cancelled: inside a branch child or body, a sleep ends at once
 * with a {@link CancelledError} when the branch cancels its children, so a cancelled child does
 * not linger. The timer does not keep the process alive by itself beyond the sleep.
 *
 * @example
 * ```ts
 * await branch((children) => {
 *   children.add(async () => { await sleep(60_000); });   // cancelled when the sibling fails
 *   children.add(() => { throw new Error('fail fast'); });
 * });
 * ```
 */
export function sleep(ms: number, options: SleepOptions = {}): Promise<void> {
  const signal = options.signal ?? runtime.ambient.getStore()?.signal;
  if (signal?.aborted) return Promise.reject(new CancelledError(signal.reason, 'sleep'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError(signal?.reason, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
