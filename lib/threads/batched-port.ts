import type { TransferListItem } from 'node:worker_threads';
/**
 * A port that sends everything posted in one turn of the event loop as a single message (an array), so that many
 * calls in flight cost one postMessage, not one each. A batch that cannot be cloned is resent one
 * message at a time, so that only the message at fault is reported, never the whole batch lost.
 */
export interface MessageTarget {
  postMessage(value: unknown, transfer?: readonly TransferListItem[]): void;
}

export class BatchedPort<M> {
  #outbox: M[] = [];
  #transfers: (readonly TransferListItem[] | undefined)[] = [];
  #scheduled = false;

  constructor(
    private readonly target: MessageTarget,
    private readonly undeliverable: (message: M, error: unknown) => void,
  ) {}

  /** Queues a message for this tick's batch; `transfer` lists buffers it moves. */
  send(message: M, transfer?: readonly TransferListItem[]): void {
    this.#outbox.push(message);
    this.#transfers.push(transfer !== undefined && transfer.length > 0 ? transfer : undefined);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // After this turn of the event loop, not this microtask queue: a monitor settles its turns
      // through chains of microtasks, and one flush should carry all the replies they make.
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    const batch = this.#outbox;
    const transfers = this.#transfers;
    this.#outbox = [];
    this.#transfers = [];
    this.#scheduled = false;
    try {
      this.target.postMessage(batch, transfers.some((list) => list !== undefined) ? transfers.flatMap((list) => list ?? []) : undefined);
    } catch {
      batch.forEach((message, index) => {
        try {
          this.target.postMessage([message], transfers[index]);
        } catch (error) {
          this.undeliverable(message, error);
        }
      });
    }
  };
}

/**
 * Handles each message of a batch that arrived. One message whose handling fails must not drop
 * the rest of the batch, nor end the thread (and every call waiting on it): it is reported as a
 * process warning, which names safethread, and the others go on.
 */
export function receiveBatch<M>(batch: readonly M[], handle: (message: M) => void): void {
  for (const message of batch) {
    try {
      handle(message);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : new Error(String(error)), { type: 'SafethreadWarning', code: 'ERR_MESSAGE_HANDLER' });
    }
  }
}
