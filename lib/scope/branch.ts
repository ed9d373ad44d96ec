import { BranchError } from '../errors/branch-error';
import { CancelledError, TimeoutError } from '../errors/cancelled-error';
import { DefinitionError } from '../errors/definition-error';
import { runtime } from '../runtime';
import { passArguments } from '../shareability/boundary';
import { childRunner } from '../threads/child-runner';
import { describeWork, type Child } from './child';

/**
 * A branch: a scope that runs children in parallel, passes their results out, propagates their
 * failures, cancels the rest on the first failure and never lets a child outlive it.
 *
 * The branch settles only when its body and every child have settled. A cancellation the branch
 * caused itself (after a failure, a timeout or an outside abort) is not reported as a failure:
 * the error that caused it is.
 */

/** Options of {@link branch}. */
export interface BranchOptions {
  /** Cancels the branch (and so every child) when it aborts; the branch rejects with a `CancelledError`. */
  readonly signal?: AbortSignal;
  /** Cancels the branch after this many milliseconds; it rejects with a `TimeoutError`. */
  readonly timeoutMs?: number;
  /**
   * How long a cancelled child on a worker may run on before its thread is ended (and replaced).
   * @default 1000
   */
  readonly graceMs?: number;
}

/** What a branch body receives to start children. */
export interface Children {
  /**
   * Starts `fn(...args)` on a pool thread. `fn` is a function registered with `task(fn)` or a
   * self-contained function (it is shipped as source); the arguments must be shareable.
   */
  add<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>>;
  /**
   * Starts `fn(...args)` on this thread, for I/O-bound work, with the same structured rules: it
   * is awaited by the branch, cancelled with it (through `sleep` and the ambient signal), and
   * its failure cancels its siblings. It may close over local variables.
   */
  addLocal<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>>;
}

interface ChildState {
  readonly child: Child<unknown>;
  settled: boolean;
  /** Cancelled by its own `cancel()`: its failure is not the branch's. */
  cancelledAlone: boolean;
  /** Its thread was ended by the branch after its grace ran out. */
  terminated: boolean;
  /** Ends its thread when it outlives its grace (pool children only). */
  readonly terminate?: (why: string) => void;
}

/**
 * Runs `body(children)`, and resolves to the children's results in the order they were added once
 * all of them have finished. The first failure (of a child or of the body) cancels the others;
 * when everything has settled the branch rejects with that error, or with a {@link BranchError}
 * when several failed.
 *
 * @example
 * ```ts
 * import { branch, task } from 'safethread';
 * export const square = task(function square(n: number) { return n * n; });
 *
 * const squares = await branch((children) => {
 *   for (let n = 1; n <= 4; n++) children.add(square, n);
 * }); // [1, 4, 9, 16]
 * ```
 */
export async function branch<R = unknown>(body: (children: Children) => void | PromiseLike<void>, options: BranchOptions = {}): Promise<R[]> {
  if (typeof body !== 'function') {
    throw new DefinitionError('ERR_INVALID_OPTION', 'branch', 'body', 'a function that adds children', typeof body);
  }
  const graceMs = options.graceMs ?? 1000;
  // The pool job this branch runs in, if any: its children are this job's, and it waits for them.
  const job = runtime.ambient.getStore()?.job;
  const controller = new AbortController();
  const states: ChildState[] = [];
  const failures: unknown[] = [];
  let allSettled: () => void = () => {};
  let grace: NodeJS.Timeout | undefined;

  const cancelAll = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    for (const state of states) if (!state.settled) state.child.cancel(reason);
    grace = setTimeout(() => {
      for (const state of states) {
        if (state.settled || state.terminate === undefined) continue;
        state.terminated = true;
        state.terminate(`it was cancelled and did not stop within graceMs (${graceMs} ms)`);
      }
    }, graceMs);
    grace.unref();
  };
  const fail = (error: unknown): void => {
    failures.push(error);
    cancelAll(error);
  };
  const track = <T>(child: Child<T>, terminate?: (why: string) => void): Child<T> => {
    const state: ChildState = {
      child: {
        result: child.result,
        cancel: (reason?: unknown) => {
          state.cancelledAlone = true;
          child.cancel(reason);
        },
      },
      settled: false,
      cancelledAlone: false,
      terminated: false,
      terminate,
    };
    states.push(state);
    child.result.then(
      () => settle(state),
      (error: unknown) => {
        // Cancellations the branch or the user asked for are not failures; any other error is,
        // even one that arrives after the branch started cancelling.
        const asked = controller.signal.aborted || state.cancelledAlone;
        if (!(asked && (error instanceof CancelledError || state.terminated))) fail(error);
        settle(state);
      },
    );
    return state.child as Child<T>;
  };
  const settle = (state: ChildState): void => {
    state.settled = true;
    if (states.every((candidate) => candidate.settled)) allSettled();
  };

  const children: Children = {
    add: (fn, ...args) => {
      if (controller.signal.aborted) throw new CancelledError(controller.signal.reason, 'the branch');
      const work = describeWork(fn);
      const passed = passArguments(`child ${work.name}`, [...args]);
      let id = 0;
      const result = new Promise<never>((resolve, reject) => {
        id = childRunner().submit({ name: work.name, spec: work.spec, args: passed, stack: new Error().stack, resolve, reject });
      });
      return track({ result, cancel: (reason?: unknown) => childRunner().cancel(id, reason) }, (why) => childRunner().terminate(id, why));
    },
    addLocal: (fn, ...args) => {
      if (controller.signal.aborted) throw new CancelledError(controller.signal.reason, 'the branch');
      const local = new AbortController();
      const stop = () => local.abort(controller.signal.reason);
      controller.signal.addEventListener('abort', stop, { once: true });
      // Typed `never` inside: the public signature of addLocal carries the child's real result type.
      const result = runtime.ambient.run({ signal: local.signal, job }, async () => await fn(...args)) as Promise<never>;
      void result.finally(() => controller.signal.removeEventListener('abort', stop)).catch(() => {});
      return track({ result, cancel: (reason?: unknown) => local.abort(reason) });
    },
  };

  const onOutsideAbort = () => cancelAll(new CancelledError(options.signal?.reason, 'the branch'));
  if (options.signal?.aborted) throw new CancelledError(options.signal.reason, 'the branch');
  options.signal?.addEventListener('abort', onOutsideAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => cancelAll(new TimeoutError(options.timeoutMs as number, 'the branch')), options.timeoutMs);

  try {
    try {
      await runtime.ambient.run({ signal: controller.signal, job }, async () => body(children));
    } catch (error) {
      fail(error);
    }
    if (!states.every((state) => state.settled)) await new Promise<void>((resolve) => (allSettled = resolve));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (grace !== undefined) clearTimeout(grace);
    options.signal?.removeEventListener('abort', onOutsideAbort);
  }

  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new BranchError(failures);
  if (controller.signal.aborted) throw controller.signal.reason;
  const results = await Promise.all(states.map((state) => state.child.result.catch(() => undefined)));
  return results as R[];
}
