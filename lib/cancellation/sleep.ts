import { CancelledError } from '../errors/cancelled-error';
import type { CancellationToken } from './cancellation-token';
import { ambientContext, currentToken } from './current-token';

/** Options of {@link sleep}. */
export interface SleepOptions {
  /**
   * Ends the sleep early with a {@link CancelledError} when cancelled.
   * @default currentToken(): the running child's, call's or branch body's token
   */
  readonly token?: CancellationToken;
  /** Ends the sleep early when it aborts, like `token` (and instead of it). */
  readonly signal?: AbortSignal;
}

/**
 * Waits `ms` milliseconds, or until cancelled: inside a branch child or body, or a monitor call,
 * a sleep ends at once with a {@link CancelledError} carrying the reason when its token is
 * cancelled, so a cancelled child does not linger.
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
  const { signal } = options;
  const token = signal === undefined ? options.token ?? currentToken() : undefined;
  if (signal?.aborted) return Promise.reject(new CancelledError(signal.reason, 'sleep'));
  if (token?.cancelled) return Promise.reject(new CancelledError(token.reason, 'sleep'));
  // A turn that sleeps will resume by itself: while it sleeps, its calls cannot deadlock it.
  const turn = ambientContext()?.call;
  if (turn !== undefined) turn.liveWaits++;
  // When it wakes, the turn is not probed again: it may have moved on from its calls (a race the
  // timer won), and a call it left pending is no proof that it waits for it.
  const woke = () => {
    if (turn !== undefined) turn.liveWaits--;
  };
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason: unknown) => {
      clearTimeout(timer);
      woke();
      reject(new CancelledError(reason, 'sleep'));
    };
    const onAbort = () => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const stopListening = token?.onCancel(stop);
    // setTimeout holds at most about 24.8 days; longer sleeps wait in steps.
    const wait = (remaining: number) => {
      timer = setTimeout(() => {
        if (remaining > LONGEST_TIMER_MS) return wait(remaining - LONGEST_TIMER_MS);
        signal?.removeEventListener('abort', onAbort);
        stopListening?.();
        woke();
        resolve();
      }, Math.min(remaining, LONGEST_TIMER_MS));
    };
    wait(ms);
  });
}

const LONGEST_TIMER_MS = 2 ** 31 - 1;
