import { isMainThread } from 'node:worker_threads';
import { slot } from '../runtime';
import { ChildRequests } from './child-requests';
import { PoolClient } from './pool-client';
import { configuration } from './pool-options';
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
  /**
   * How the runner hears that `token` was cancelled, when the code that adds the child can tell it
   * more cheaply than `token.onCancel` (a branch cancels its children's tokens itself, on this
   * thread; `onCancel` on each queued child's token would wait on shared memory for every one of
   * them). Returns what stops listening. @default token.onCancel
   */
  readonly onCancel?: (listener: (reason: unknown) => void) => () => void;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ChildRunner {
  /**
   * A child is about to be submitted: a pool with no thread starts its first now, so that the
   * thread's start-up overlaps the preparing of the child (parsing an inline function, which
   * loads a parser, takes as long as a thread's start).
   */
  prepare(): void;
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
  return children().runner();
}

/** The runner of children, if this thread has one now. */
export function currentChildRunner(): ChildRunner | undefined {
  return children().current;
}

/** `shutdown()`: the runner is forgotten, so that the next branch starts a new pool; returns it, to be closed. */
export function retireChildRunner(): ChildRunner | undefined {
  return children().retire();
}

/** The main thread's record of workers' children, made when a worker first asks for one. */
export function childRequests(): ChildRequests {
  return children().requests();
}

/** A thread that may have asked for children ended (main thread): they are orphans now. */
export function orphanChildrenOf(threadId: number, why: string): void {
  children().orphan(threadId, why);
}

/**
 * This thread's children on threads: the runner of its branches' children and, on the main thread,
 * the record of workers' children. Both live here because they reach each other: the record runs
 * its children on the runner, and the pool tells the record when a thread ends; each is handed the
 * other's function, so neither module imports the other.
 */
class ChildrenOnThreads {
  #runner: ChildRunner | undefined = undefined;
  #requests: ChildRequests | undefined = undefined;

  runner(): ChildRunner {
    return (this.#runner ??= isMainThread ? new ThreadPool(configuration().options, orphanChildrenOf) : new PoolClient());
  }

  get current(): ChildRunner | undefined {
    return this.#runner;
  }

  retire(): ChildRunner | undefined {
    const runner = this.#runner;
    this.#runner = undefined;
    return runner;
  }

  requests(): ChildRequests {
    return (this.#requests ??= new ChildRequests(childRunner));
  }

  /** Only a record that exists has children to orphan. */
  orphan(threadId: number, why: string): void {
    this.#requests?.orphan(threadId, why);
  }
}

const children = slot('children on threads', () => new ChildrenOnThreads());
