import type { CancellationToken } from '../cancellation/cancellation-token';
import type { MonitorCall } from '../deadlock/monitor-call';

/**
 * A wait in a queue that can be taken back before it is served: by its caller's cancellation
 * token, or through its call's `withdraw`, which a deadlock verdict and the death of the caller's
 * thread use. A monitor's queued call and a channel's waiting put or get are such waits; what
 * they queue, and what serving them means, is theirs.
 *
 * It ends once, either way: withdrawn first, it is no longer served; served first (`end`), it can
 * no longer be withdrawn.
 *
 * @example
 * ```ts
 * const wait = new WithdrawableWait(call, (error) => {
 *   queue.delete(entry);
 *   reject(error);
 * });
 * queue.add(entry);
 * wait.watch(token, (reason) => new CancelledError(reason, 'Channel#1.get'));
 * // later, when the queue serves it:
 * wait.end();
 * ```
 */
export class WithdrawableWait {
  readonly #call: MonitorCall | undefined;
  readonly #withdrawn: (error: Error) => void;
  #ended = false;
  #stopWatching: (() => void) | undefined;

  /**
   * @param call - the call whose `withdraw` takes the wait back, if it waits as one
   * @param withdrawn - takes the wait out of its queue and rejects it with `error`; runs at most once
   */
  constructor(call: MonitorCall | undefined, withdrawn: (error: Error) => void) {
    this.#call = call;
    this.#withdrawn = withdrawn;
  }

  /** Whether it was withdrawn or served. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * From now on the token, and the call's `withdraw`, take the wait back. A token cancelled on
   * another thread a moment ago withdraws it at once, before this returns.
   */
  watch(token: CancellationToken | undefined, cancelled: (reason: unknown) => Error): void {
    if (this.#call !== undefined) this.#call.withdraw = (error) => this.withdraw(error);
    const stop = token?.onCancel((reason) => this.withdraw(cancelled(reason)));
    if (this.#ended) stop?.();
    else this.#stopWatching = stop;
  }

  /** Takes the wait back with `error`, unless it already ended. */
  withdraw(error: Error): void {
    if (this.#ended) return;
    this.end();
    this.#withdrawn(error);
  }

  /** The wait is over (served, or withdrawn): the token and the call's `withdraw` no longer reach it. */
  end(): void {
    this.#ended = true;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    if (this.#call !== undefined) this.#call.withdraw = undefined;
  }
}
