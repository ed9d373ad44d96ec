import { followingToken, type CancellationToken, type OwnedToken } from './cancellation-token';

/**
 * The side of cancellation that cancels: it owns a {@link CancellationToken} and cancels it, on
 * every thread that holds it. A source made with a parent token is cancelled when the parent
 * is (a linked token), with the parent's reason.
 *
 * @example
 * ```ts
 * const source = new CancellationSource();
 * const search = branch(body, { token: source.token });
 * stopButton.onclick = () => source.cancel('the user stopped the search');
 * ```
 */
export class CancellationSource {
  /** The token to hand out. */
  readonly token: CancellationToken;
  readonly #owned: OwnedToken;
  /** Stops listening to the parent; a no-op until linked (the parent may fire while we link). */
  #unlink: () => void = () => {};

  /** @param parent - cancels this source too when it is cancelled */
  constructor(parent?: CancellationToken) {
    this.#owned = followingToken(parent);
    this.token = this.#owned.token;
    if (parent !== undefined) {
      const unlink = parent.onCancel((reason) => this.#owned.parentCancelled(reason));
      if (!this.token.cancelled) this.#unlink = unlink;
    }
  }

  /**
   * Stops listening to the parent token, when this source is no longer needed (its work is done),
   * so that a long-lived parent does not keep every finished child source alive.
   */
  dispose(): void {
    this.#unlink();
    this.#unlink = () => {};
  }

  /**
   * Cancels the token, everywhere, with `reason` (kept as the `CancelledError`'s reason and cause).
   * The first cancel wins; later ones do nothing.
   */
  cancel(reason?: unknown): void {
    if (this.token.cancelled) return;
    this.#unlink();
    this.#owned.cancel(reason);
  }
}
