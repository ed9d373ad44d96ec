/**
 * A port that sends everything posted in one tick as a single message (an array), so that many
 * calls in flight cost one postMessage, not one each. A batch that cannot be cloned is resent one
 * message at a time, so that only the message at fault is reported, never the whole batch lost.
 */
export interface MessageTarget {
  postMessage(value: unknown): void;
}

export class BatchedPort<M> {
  #outbox: M[] = [];
  #scheduled = false;

  constructor(
    private readonly target: MessageTarget,
    private readonly undeliverable: (message: M, error: unknown) => void,
  ) {}

  send(message: M): void {
    this.#outbox.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = (): void => {
    const batch = this.#outbox;
    this.#outbox = [];
    this.#scheduled = false;
    try {
      this.target.postMessage(batch);
    } catch {
      for (const message of batch) {
        try {
          this.target.postMessage([message]);
        } catch (error) {
          this.undeliverable(message, error);
        }
      }
    }
  };
}
