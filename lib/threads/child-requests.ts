import type { TransferListItem } from 'node:worker_threads';
import { CancellationSource } from '../cancellation/cancellation-source';
import type { CancellationToken } from '../cancellation/cancellation-token';
import { CancelledError } from '../errors/cancelled-error';
import { runtime } from '../runtime';
import { childRunner } from './child-runner';
import { MessageKind, type Outcome, type RunChildMessage, type TerminateChildMessage } from './protocol';
import { decode, decodeAll, encode } from './serialize';
import { serializeError } from './serialize-error';
import { router } from './transport';

/**
 * The main thread's side of branches that run on workers (pool threads and actors alike): their
 * children arrive as requests, run on the pool, and their results go back. Each child gets a
 * source on this thread, linked to its branch's token, so that if the requesting thread dies
 * (and its branch with it) the child can still be cancelled, and then ended after a grace.
 */
const ORPHAN_GRACE_MS = 1000;

export class ChildRequests {
  /** By requesting thread, then by that thread's own id for the child. */
  readonly #byThread = new Map<number, Map<number, { readonly id: number; readonly source: CancellationSource }>>();

  serve(threadId: number, message: RunChildMessage | TerminateChildMessage): void {
    const children = this.#childrenOf(threadId);
    if (message.kind === MessageKind.TerminateChild) {
      const child = children.get(message.id);
      if (child !== undefined) childRunner().terminate(child.id, message.why);
      return;
    }
    let settled = false;
    const settle = (outcome: Outcome, transfer?: readonly TransferListItem[]) => {
      settled = true;
      children.get(message.id)?.source.dispose();
      children.delete(message.id);
      router().send(threadId, { kind: MessageKind.ChildSettled, id: message.id, ...outcome }, transfer);
    };
    let args: unknown[];
    let source: CancellationSource;
    try {
      args = decodeAll(message.args);
      source = new CancellationSource(decode(message.token) as CancellationToken);
    } catch (error) {
      settle({ ok: false, error: serializeError(error, runtime.threadName) });
      return;
    }
    const id = childRunner().submit({
      name: message.name,
      spec: message.spec,
      args,
      token: source.token,
      parent: message.parent,
      resolve: (value) => {
        const transfer: TransferListItem[] = [];
        try {
          settle({ ok: true, value: encode(value, transfer) }, transfer);
        } catch (error) {
          settle({ ok: false, error: serializeError(error, runtime.threadName) });
        }
      },
      reject: (error) => settle({ ok: false, error: serializeError(error, runtime.threadName) }),
    });
    // The child may already have settled (cancelled before it was queued): then there is nothing to keep.
    if (settled) source.dispose();
    else children.set(message.id, { id, source });
  }

  /**
   * A requesting thread is gone: its branches can no longer await or cancel their children, so
   * they are cancelled here, and ended if they do not stop within the grace.
   */
  orphan(threadId: number, why: string): void {
    const children = this.#byThread.get(threadId);
    this.#byThread.delete(threadId);
    for (const { id, source } of children?.values() ?? []) {
      source.cancel(new CancelledError(why, 'a child whose branch is gone'));
      setTimeout(() => childRunner().terminate(id, `it was orphaned and did not stop within ${ORPHAN_GRACE_MS} ms`), ORPHAN_GRACE_MS).unref();
    }
  }

  #childrenOf(threadId: number): Map<number, { readonly id: number; readonly source: CancellationSource }> {
    let children = this.#byThread.get(threadId);
    if (children === undefined) {
      children = new Map();
      this.#byThread.set(threadId, children);
    }
    return children;
  }
}

/** The main thread's record of workers' children, made on first use. */
export function childRequests(): ChildRequests {
  return (runtime.childRequests ??= new ChildRequests());
}
