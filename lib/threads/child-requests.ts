import type { TransferListItem } from 'node:worker_threads';
import { CancellationSource } from '../cancellation/cancellation-source';
import type { CancellationToken } from '../cancellation/cancellation-token';
import { CancelledError } from '../errors/cancelled-error';
import type { ChildRunner } from './child-runner';
import { MessageKind, type Outcome, type RunChildMessage, type TerminateChildMessage } from './protocol';
import { failure } from './outcome';
import { decode, decodeAll, encode } from './serialize';
import { router } from './transport';

/**
 * The main thread's side of branches that run on workers (pool threads and actors alike): their
 * children arrive as requests, run on the pool, and their results go back. Each child gets a
 * source on this thread, linked to its branch's token, so that if the requesting thread dies
 * (and its branch with it) the child can still be cancelled, and then ended after a grace.
 */
const ORPHAN_GRACE_MS = 1000;

/** A child a worker asked for: its pool job, its source here, and the pool's listener for its cancel. */
interface RequestedChild {
  readonly id: number;
  readonly source: CancellationSource;
  readonly cancelled?: (reason: unknown) => void;
}

export class ChildRequests {
  /** By requesting thread, then by that thread's own id for the child. */
  readonly #byThread = new Map<number, Map<number, RequestedChild>>();
  /** The pool that runs the children (threads/child-runner.ts, which made this record). */
  readonly #runner: () => ChildRunner;

  constructor(runner: () => ChildRunner) {
    this.#runner = runner;
  }

  serve(threadId: number, message: RunChildMessage | TerminateChildMessage): void {
    const children = this.#childrenOf(threadId);
    if (message.kind === MessageKind.TerminateChild) {
      const child = children.get(message.id);
      if (child !== undefined) this.#runner().terminate(child.id, message.why);
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
    let parentToken: CancellationToken;
    let source: CancellationSource;
    try {
      args = decodeAll(message.args);
      parentToken = decode(message.token) as CancellationToken;
      source = new CancellationSource(parentToken);
    } catch (error) {
      settle(failure(error));
      return;
    }
    const child: { id: number; readonly source: CancellationSource; cancelled?: (reason: unknown) => void } = { id: 0, source };
    // The source is cancelled through its link to the requesting thread's token (which waits on its
    // memory already) or when orphaned: the pool hears of both without a wait of its own.
    const onCancel = (listener: (reason: unknown) => void): (() => void) => {
      const unlink = parentToken.onCancel(listener);
      child.cancelled = listener;
      return () => {
        unlink();
        child.cancelled = undefined;
      };
    };
    child.id = this.#runner().submit({
      name: message.name,
      spec: message.spec,
      args,
      token: source.token,
      parent: message.parent,
      onCancel,
      resolve: (value) => {
        const transfer: TransferListItem[] = [];
        try {
          settle({ ok: true, value: encode(value, transfer) }, transfer);
        } catch (error) {
          settle(failure(error));
        }
      },
      reject: (error) => settle(failure(error)),
    });
    // The child may already have settled (cancelled before it was queued): then there is nothing to keep.
    if (settled) source.dispose();
    else children.set(message.id, child);
  }

  /**
   * A requesting thread is gone: its branches can no longer await or cancel their children, so
   * they are cancelled here, and ended if they do not stop within the grace.
   */
  orphan(threadId: number, why: string): void {
    const children = this.#byThread.get(threadId);
    this.#byThread.delete(threadId);
    if (children === undefined) return;
    // Only a child still running after the grace is ended, and on the pool that runs it: pool job
    // ids start again in a new pool, so a bare id could by then name someone else's child.
    const runner = this.#runner();
    for (const [key, { id, source, cancelled }] of children) {
      source.cancel(new CancelledError(why, 'a child whose branch is gone'));
      cancelled?.(source.token.reason);
      const endIfRunning = () => {
        if (children.has(key)) runner.terminate(id, `it was orphaned and did not stop within ${ORPHAN_GRACE_MS} ms`);
      };
      setTimeout(endIfRunning, ORPHAN_GRACE_MS).unref();
    }
  }

  #childrenOf(threadId: number): Map<number, RequestedChild> {
    let children = this.#byThread.get(threadId);
    if (children === undefined) {
      children = new Map();
      this.#byThread.set(threadId, children);
    }
    return children;
  }
}
