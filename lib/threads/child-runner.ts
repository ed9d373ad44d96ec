import { isMainThread } from 'node:worker_threads';
import { runtime } from '../runtime';
import { PoolClient } from './pool-client';
import { ThreadPool } from './pool';
import type { CancellationToken } from '../cancellation/cancellation-token';
import type { TaskSpec } from './protocol';

/**
 * What runs branch children on threads: the pool on the main thread, and on a worker a client
 * that asks the main thread's pool, so that every thread's branches share one set of threads.
 */
export interface ChildJob {
  readonly name: string;
  readonly spec: TaskSpec;
  /** Already checked for shareability. */
  readonly args: readonly unknown[];
  /** Where the child was added: its stack is read (costly) only when the child fails, and joined to the child's. */
  readonly origin?: Error;
  /** The child's own token: cancelling it stops a queued child from starting and asks a running one to stop. */
  readonly token: CancellationToken;
  /** The pool job whose branch (or monitor call) added it, if any: that job waits for it meanwhile. */
  readonly parent?: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ChildRunner {
  /** Queues a child; returns its id, with which its thread can be ended. Its token cancels it. */
  submit(job: ChildJob): number;
  /** Ends the thread of a child that did not stop in time; it rejects and the thread is replaced. */
  terminate(id: number, why: string): void;
  /**
   * A child (pool job `job`) starts (+1) or stops (-1) waiting on a channel: while all the
   * children of a thread wait, the thread does not count against `threads`, so the children
   * that would end the wait can still be placed. Channels on any thread report here.
   */
  blocked(job: number, delta: 1 | -1): void;
}



/** This thread's runner of children, made on first use. */
export function childRunner(): ChildRunner {
  return (runtime.pool ??= isMainThread ? new ThreadPool(runtime.poolOptions) : new PoolClient());
}
