import type { TransferListItem } from 'node:worker_threads';
import { warningMessages } from '../errors/codes';
import { slot, thisThread } from '../runtime';
import { isMessage } from './protocol';
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
 *
 * Code on a worker can post anything on safethread's port (`parentPort.postMessage(42)`): what is
 * not a batch of messages is ignored, with one warning ({@link ignoreStray}), and never hurts this
 * thread or any other. `sender` names the thread it came from, for that warning.
 */
export function receiveBatch<M>(batch: unknown, sender: string, handle: (message: M) => void): void {
  if (!Array.isArray(batch)) {
    ignoreStray(sender, batch);
    return;
  }
  for (const message of batch as unknown[]) {
    if (!isMessage(message)) {
      ignoreStray(sender, message);
      continue;
    }
    try {
      handle(message as M);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : new Error(String(error)), { type: 'SafethreadWarning', code: 'ERR_MESSAGE_HANDLER' });
    }
  }
}

/**
 * Ignores what a thread posted that is not a message of safethread's, or not that thread's to
 * send (a result for a call it was never asked): the first time on this thread with a warning
 * that says what, and who sent it; later ones quietly, so that a chatty library cannot flood stderr.
 */
export function ignoreStray(sender: string, what: unknown, described?: string): void {
  if (!strayWarning().first()) return;
  const receiver = thisThread().id === 0 ? 'the main thread' : thisThread().name;
  process.emitWarning(warningMessages.SAFETHREAD_STRAY_MESSAGE(receiver, sender, described ?? describe(what)), { code: 'SAFETHREAD_STRAY_MESSAGE' });
}

/** A short description of a stray value, for the warning: never its whole contents. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  const kind = (value as { readonly kind?: unknown }).kind;
  return typeof kind === 'string' ? `a message of kind ${JSON.stringify(kind.slice(0, 40))}, which it does not take` : 'an object that is not a message';
}

/** Whether this thread warned of a stray message yet; only {@link ignoreStray} reads and writes it. */
class StrayWarning {
  #warned = false;

  /** True the first time only. */
  first(): boolean {
    if (this.#warned) return false;
    this.#warned = true;
    return true;
  }
}

const strayWarning = slot('stray message warning', () => new StrayWarning());
