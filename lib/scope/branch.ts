import type { Observable } from 'rxjs';
import { CancellationSource } from '../cancellation/cancellation-source';
import { followingToken, type CancellationToken, type OwnedToken } from '../cancellation/cancellation-token';
import { BranchError } from '../errors/branch-error';
import { CancelledError, TimeoutError } from '../errors/cancelled-error';
import { DefinitionError } from '../errors/definition-error';
import { warningMessages } from '../errors/codes';
import { lingeringWork } from '../deadlock/monitor-dump';
import { observables } from '../observables';
import { ambientContext, runInContext } from '../cancellation/current-token';
import { passArguments } from '../shareability/boundary';
import { childRunner, type ChildJob } from '../threads/child-runner';
import { loadingModule } from '../threads/loading-module';
import { warnTopLevelStart } from '../threads/top-level-start-warning';
import { describeWork, type Child } from './child';
import type { StreamObserver } from '../monitor/monitor-endpoint';

/**
 * A branch: a scope that runs children in parallel, passes their results out, propagates their
 * failures, cancels the rest on the first failure and never lets a child outlive it.
 *
 * Cancellation flows down through tokens: the branch has one, linked to the caller's (and to
 * `token`/`signal`), and every child has one linked to the branch's, which reaches the child's
 * thread through shared memory. The branch settles only when its body and every child have
 * settled. A cancellation the branch caused itself (after a failure, a timeout or an outside
 * cancel) is not reported as a failure: the error that caused it is.
 */

/** Options of {@link branch}. */
export interface BranchOptions {
  /** Cancels the branch (and so every child) when it aborts; the branch rejects with a `CancelledError`. */
  readonly signal?: AbortSignal;
  /** Cancels the branch (and so every child) when cancelled; the branch rejects with a `CancelledError`. */
  readonly token?: CancellationToken;
  /** Cancels the branch after this many milliseconds; it rejects with a `TimeoutError` (also a `CancelledError`). */
  readonly timeoutMs?: number;
  /**
   * How long a cancelled child on a worker may run on before its thread is ended (and replaced);
   * for a local child (`addLocal`), before the branch abandons it and warns.
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
   * is awaited by the branch, cancelled with it (its `currentToken()`), and its failure cancels
   * its siblings. It may close over local variables.
   *
   * A local child cannot be ended the way a thread can: one that ignores its cancellation for
   * `graceMs` is abandoned. The branch settles without it, a `SAFETHREAD_LOCAL_CHILD_ABANDONED`
   * warning names it, and `dumpMonitors().abandoned` lists it until it returns; meanwhile it runs
   * on, and whatever it waits for (a timer, a socket) may keep the process alive.
   */
  addLocal<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>>;
  /**
   * The children's results as they finish, for progress: an Observable that emits each child
   * that succeeds, in the order they finish (those finished before the subscription first), and
   * completes when the branch is over. Failures are not emitted: the branch reports them.
   *
   * @example
   * ```ts
   * await branch((children) => {
   *   for (const file of files) children.add(checksum, file);
   *   children.results().subscribe(({ index }) => console.log(`${index} done`));
   * });
   * ```
   */
  results(): Observable<ChildResult>;
}

/**
 * A child that finished, as {@link Children.results} reports it.
 *
 * @example
 * ```ts
 * children.results().subscribe((result: ChildResult) => console.log(`#${result.index} ${result.name}: ${String(result.value)}`));
 * ```
 */
export interface ChildResult<R = unknown> {
  /** Its place in add order, from 0: the index of its value in the branch's results. */
  readonly index: number;
  /** Its function's name. */
  readonly name: string;
  readonly value: R;
}

interface ChildState {
  /** Its result, once started. */
  result: Promise<unknown>;
  /**
   * Its token, and what cancels it, until it settles: then let go of, so that a big branch does
   * not keep every finished child's token (and its shared memory) until the last one finishes.
   * The token follows the branch's (see `followingToken`): the branch cancels it.
   */
  own: OwnedToken | undefined;
  /** The pool's listener for its cancel, while it waits for a thread or ahead on one (see `ChildJob.onCancel`). */
  heard: ((reason: unknown) => void) | undefined;
  settled: boolean;
  /** Cancelled by its own `cancel()`: its failure is not the branch's. */
  cancelledAlone: boolean;
  /** Its thread was ended (or it was abandoned) by the branch after its grace ran out. */
  terminated: boolean;
  /** Ends its thread when it outlives its grace (pool children only). */
  terminate: ((why: string) => void) | undefined;
  /** The grace of a child cancelled alone. */
  graceTimer: NodeJS.Timeout | undefined;
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
export async function branch<R = unknown>(body: (children: Children) => void | PromiseLike<void>, options: BranchOptions = {}): Promise<readonly R[]> {
  if (typeof body !== 'function') {
    throw new DefinitionError('ERR_INVALID_OPTION', 'branch', 'body', 'a function that adds children', typeof body);
  }
  if (loadingModule() !== undefined) warnTopLevelStart('a branch');
  const graceMs = options.graceMs ?? 1000;
  const outer = ambientContext();
  // The pool job this branch runs in, if any: its children are that job's, and it waits for them.
  const job = outer?.job;
  const scope = new CancellationSource(outer?.token);
  const states: ChildState[] = [];
  /** How many children have not settled: counted, so that each settling costs the same however many there are. */
  let unsettled = 0;
  const failures: unknown[] = [];
  let allSettled: () => void = () => {};
  let grace: NodeJS.Timeout | undefined;
  let causedByBranch = false;
  /** Set once everything settled: no child may be added after, or it would outlive its branch. */
  let closed = false;
  /** What `children.results()` replays and tells its subscribers. */
  const finished: ChildResult[] = [];
  const watchers = new Set<StreamObserver>();

  const cancelAll = (reason: unknown): void => {
    if (scope.token.cancelled) return;
    causedByBranch = true;
    scope.cancel(reason);
  };
  const endIfStillRunning = (state: ChildState): void => {
    if (state.settled || state.terminate === undefined || state.terminated) return;
    state.terminated = true;
    state.terminate(`it was cancelled and did not stop within graceMs (${graceMs} ms)`);
  };
  // However the branch's token is cancelled (by us, the caller's token, or `token`), children are
  // cancelled and get their grace. One listener for them all: a child's token reads as cancelled at
  // once on every thread (it follows the branch's), and this runs its callbacks here.
  scope.token.onCancel((reason) => {
    grace = setTimeout(() => states.forEach(endIfStillRunning), graceMs);
    grace.unref();
    for (const state of states) {
      if (state.settled) continue;
      state.own?.parentCancelled(reason);
      state.heard?.(reason);
    }
  });
  const fail = (error: unknown): void => {
    failures.push(error);
    cancelAll(error);
  };
  const settle = (state: ChildState): void => {
    state.settled = true;
    state.own = undefined;
    state.heard = undefined;
    if (state.graceTimer !== undefined) clearTimeout(state.graceTimer);
    if (--unsettled === 0) allSettled();
  };
  const track = (name: string, start: (token: CancellationToken, hear: HearCancel) => { result: Promise<never>; terminate?: (why: string) => void }): Child<never> => {
    if (closed) throw new DefinitionError('ERR_BRANCH_CLOSED', 'children.add');
    if (scope.token.cancelled) throw new CancelledError(scope.token.reason, 'the branch');
    const own = followingToken(scope.token);
    const state: ChildState = { result: NOT_STARTED, own, heard: undefined, settled: false, cancelledAlone: false, terminated: false, terminate: undefined, graceTimer: undefined };
    // The pool hears of the child's cancel from the branch's one listener, or from its own cancel(): nothing to watch per child.
    const hear: HearCancel = (listener) => {
      state.heard = listener;
      return () => (state.heard = undefined);
    };
    const { result, terminate } = start(own.token, hear);
    state.result = result;
    state.terminate = terminate;
    const child: Child<never> = {
      result,
      cancel: (reason?: unknown) => {
        const alone = state.own;
        if (state.settled || alone === undefined) return;
        state.cancelledAlone = true;
        alone.cancel(reason);
        state.heard?.(alone.token.reason);
        // A child cancelled alone gets its grace too, then its thread is ended.
        state.graceTimer ??= setTimeout(() => endIfStillRunning(state), graceMs);
        state.graceTimer.unref();
      },
    };
    const index = states.push(state) - 1;
    unsettled++;
    result.then(
      (value: unknown) => {
        const entry: ChildResult = Object.freeze({ index, name, value });
        finished.push(entry);
        if (watchers.size > 0) for (const watcher of [...watchers]) watcher.next(entry);
        settle(state);
      },
      (error: unknown) => {
        // Cancellations the branch or the user asked for are not failures; any other error is,
        // even one that arrives after the branch started cancelling.
        const asked = scope.token.cancelled || state.cancelledAlone;
        if (!(asked && (isCancellation(error) || state.terminated))) fail(error);
        settle(state);
      },
    );
    return child;
  };

  const children: Children = {
    add: (fn, ...args) => {
      if (!closed && !scope.token.cancelled) childRunner().prepare();
      const work = describeWork(fn);
      const passed = passArguments(`child ${work.name}`, [...args]);
      const origin = new Error();
      return track(work.name, (token, onCancel) => {
        let id = 0;
        const result = new Promise<never>((resolve, reject) => {
          id = childRunner().submit({ name: work.name, spec: work.spec, args: passed, token, origin, parent: job, onCancel, resolve, reject });
        });
        return { result, terminate: (why) => childRunner().terminate(id, why) };
      });
    },
    addLocal: (fn, ...args) =>
      track(fn.name || 'a local function', (token) => {
        // A local child cannot be ended like a thread; one that ignores its grace is abandoned:
        // its result rejects and the branch settles, while the function itself is left to finish.
        let reject: (error: Error) => void = () => {};
        const abandoned = new Promise<never>((_, rejectAbandoned) => (reject = rejectAbandoned));
        const ran = runInContext({ token, job, call: outer?.call }, async () => await fn(...args)) as Promise<never>;
        const child = `${fn.name || 'a local function'} (added ${states.length + 1}${ordinal(states.length + 1)})`;
        // Said once, and shown by dumpMonitors() until the function returns: it may keep the process alive.
        const abandon = (why: string): void => {
          const reason = token.reason instanceof Error ? token.reason.message : token.reason === undefined ? undefined : String(token.reason);
          const cancelled = `${scope.token.cancelled ? 'its branch was cancelled' : 'it was cancelled alone'}${reason === undefined ? '' : ` (${reason})`}`;
          process.emitWarning(warningMessages.SAFETHREAD_LOCAL_CHILD_ABANDONED(child, cancelled, graceMs), { code: 'SAFETHREAD_LOCAL_CHILD_ABANDONED' });
          const since = Date.now();
          const forget = lingeringWork().add(() => `local child ${child}, abandoned by its branch ${((Date.now() - since) / 1000).toFixed(1)} s ago after ${cancelled}, still running on this thread`);
          ran.then(forget, forget);
          reject(new CancelledError(why, 'a local child'));
        };
        return { result: Promise.race([ran, abandoned]), terminate: abandon };
      }),
    results: () => {
      return observables('children.results()').streamAsObservable((observer) => {
        for (const entry of finished) observer.next(entry);
        if (closed) {
          observer.complete();
          return () => undefined;
        }
        watchers.add(observer);
        return () => watchers.delete(observer);
      }) as Observable<ChildResult>;
    },
  };

  const onAbort = () => scope.cancel(new CancelledError(options.signal?.reason, 'the branch'));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const unlinkToken = options.token?.onCancel((reason) => scope.cancel(new CancelledError(reason, 'the branch')));
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => scope.cancel(new TimeoutError(options.timeoutMs as number, 'the branch')), options.timeoutMs);

  try {
    if (scope.token.cancelled) throw toCancelledError(scope.token.reason);
    try {
      await runInContext({ token: scope.token, job, call: outer?.call }, async () => body(children));
    } catch (error) {
      // The body's own reaction to the branch being cancelled is not a failure either.
      if (!(scope.token.cancelled && isCancellation(error))) fail(error);
    }
    if (unsettled > 0) await new Promise<void>((resolve) => (allSettled = resolve));
  } finally {
    closed = true;
    for (const watcher of watchers) watcher.complete();
    watchers.clear();
    if (timer !== undefined) clearTimeout(timer);
    if (grace !== undefined) clearTimeout(grace);
    options.signal?.removeEventListener('abort', onAbort);
    unlinkToken?.();
    scope.dispose();
  }

  if (failures.length === 1 && (causedByBranch || !(failures[0] instanceof CancelledError))) throw failures[0];
  if (failures.length > 1) throw new BranchError(failures);
  if (scope.token.cancelled) throw toCancelledError(scope.token.reason);
  const results = await Promise.all(states.map((state) => state.result.catch(() => undefined)));
  // Frozen like every value that crosses: a branch's results can be returned from a task as they are.
  return Object.freeze(results) as readonly R[];
}

/** How the pool listens for a child's cancel (`ChildJob.onCancel`). */
type HearCancel = NonNullable<ChildJob['onCancel']>;

/** A child's result until it has started: never read, since a child that fails to start throws from `add`. */
const NOT_STARTED: Promise<unknown> = new Promise(() => {});

/** The English ordinal suffix of `n`: 1st, 2nd, 3rd, 11th. */
function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
}

/**
 * Whether an error is how a child or body reacted to its token: a `CancelledError`, or the
 * `AbortError` of a platform API given `currentToken().signal`.
 */
function isCancellation(error: unknown): boolean {
  // By name, not class: a platform AbortError may come from another realm (jest's, a vm's).
  return error instanceof CancelledError || (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError');
}

/** The error a cancelled branch rejects with: the reason itself when it is a cancellation, else one carrying it. */
function toCancelledError(reason: unknown): CancelledError {
  return reason instanceof CancelledError ? reason : new CancelledError(reason, 'the branch');
}
