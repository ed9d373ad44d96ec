import { isMainThread } from 'node:worker_threads';
import { CancellationSource } from '../cancellation/cancellation-source';
import { runInContext } from '../cancellation/current-token';
import { BackgroundError } from '../errors/background-error';
import { CancelledError } from '../errors/cancelled-error';
import { DefinitionError } from '../errors/definition-error';
import { slot, thisThread } from '../runtime';
import { loadingModule } from '../threads/loading-module';
import { warnTopLevelStart } from '../threads/top-level-start-warning';
import { branch, type Children } from './branch';
import type { Child } from './child';

/**
 * The root branch: one per process, on the main thread, for children that outlive the function
 * that started them but not the program (Trio's system nursery, Effection's main scope).
 *
 * Each background child runs in a branch of its own, under a token of its own that no caller's
 * token reaches: so its siblings are independent (one failing or cancelled leaves the others
 * running), and it has every rule of a branch child (grace, then its thread is ended). The root
 * only keeps the set of running children. It holds nothing open by itself: while children run it
 * listens for SIGINT and SIGTERM (a listener keeps no process alive), and stops listening when
 * the last one settles, so the signals' default behaviour comes back with the program's own.
 */

/** How long a cancelled background child may run on before its thread is ended (as a branch's default `graceMs`). */
const GRACE_MS = 1000;

/** The signals that ask a program to stop: on them, background children are cancelled first. */
const EXIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Starts children that outlive the function that starts them, on the main thread's root branch.
 * See {@link background}.
 *
 * @example
 * ```ts
 * class Uploads {
 *   // A test may pass its own, to see what would be started.
 *   constructor(private readonly inBackground: Background = background) {}
 *   store(photo: string): void {
 *     this.inBackground(makeThumbnail, photo).result.catch((error) => log.warn(error));
 *   }
 * }
 * ```
 */
export interface Background {
  /**
   * Starts `fn(...args)` on a pool thread, as a child of the root branch, and returns at once.
   * `fn` is a function registered with `task(fn)` or a self-contained function, as for
   * `children.add`; the arguments must be shareable.
   */
  <A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>>;
  /**
   * Starts `fn(...args)` on this thread (for I/O-bound work; it may close over local variables),
   * as a child of the root branch, as `children.addLocal` does. It stops when `currentToken()` is
   * cancelled; one that ignores its cancellation for a second is abandoned, with a warning.
   *
   * @example
   * ```ts
   * background.local(async function heartbeat() {
   *   while (!currentToken().cancelled) {
   *     await fetch(healthUrl, { signal: currentToken().signal });
   *     await sleep(5_000);
   *   }
   * });
   * ```
   */
  local<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>>;
  /**
   * Cancels every background child running now (and any they start meanwhile) and resolves when
   * all have settled: within a second (their grace), after which a child still running on a pool
   * thread has its thread ended. `shutdown()` calls it first.
   *
   * @example
   * ```ts
   * await background.cancelAll('the server is closing');
   * ```
   */
  cancelAll(reason?: unknown): Promise<void>;
}

/**
 * Starts a child on the root branch: it runs on after the function that started it returns, and
 * ends with the program. Use it for work no caller waits for (a cache warm-up, a periodic
 * flush); for work a caller needs, start a `branch` and await it.
 *
 * - Independent: the children of the root branch do not cancel each other; one failing or
 *   cancelled leaves the others running. No caller's token reaches them either (that of the
 *   branch, task or monitor call that starts them): cancel one with its `cancel()`, or link it
 *   yourself: `token.onCancel(() => child.cancel())`.
 * - Failures are never swallowed: a child that fails when nothing has read its `result` is
 *   reported as an unhandled rejection, a {@link BackgroundError} that names it (under Node's
 *   default, the process ends with exit code 1). Reading `result` makes the failure yours, as
 *   with any promise. A cancellation you asked for is not a failure; `result` then rejects with
 *   a `CancelledError`.
 * - The process: a running child keeps it alive, as any branch child does; the root branch does
 *   not, so a program exits by itself when its background children are done. On SIGINT or
 *   SIGTERM, every background child is cancelled (its `currentToken()` fires; after a second a
 *   child still running on a pool thread has its thread ended), then the signal is raised again,
 *   so the program ends as if it had received it (exit code 130 or 143 in a shell). A second
 *   signal raises it again at once. If the program has its own listeners for that signal, the
 *   children are cancelled and nothing more: the program decides when to exit.
 * - `shutdown()` cancels the background children and waits for them before ending the pool.
 * - Main thread only: on a worker it throws a `DefinitionError`, since a worker may be ended
 *   with its task, and only the main thread hears the exit signals. Start a branch there and
 *   await it, or start the background child from the main thread. (A program file that starts
 *   one at its top level, loaded by a worker to find a task, gets a `SAFETHREAD_TOP_LEVEL_START`
 *   warning there instead, and the child runs once, on the main thread.)
 *
 * @example
 * ```ts
 * import { background, task } from 'safethread';
 * export const warmCache = task(async function warmCache(region: string) { ... });
 *
 * export async function onStart(): Promise<void> {
 *   background(warmCache, 'eu').result.catch((error) => log.warn('cache stays cold', error));
 * } // returns at once; warmCache runs on, and is cancelled on Ctrl-C
 * ```
 */
export const background: Background = Object.freeze(
  Object.assign(
    function background<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>> {
      const root = onMainThread('background()');
      return root instanceof RootBranch ? root.start('add', fn, args, callSite(background)) : root;
    },
    {
      local: function local<A extends readonly unknown[], R>(fn: (...args: A) => R | PromiseLike<R>, ...args: A): Child<Awaited<R>> {
        const root = onMainThread('background.local()');
        return root instanceof RootBranch ? root.start('addLocal', fn, args, callSite(local)) : root;
      },
      cancelAll(reason?: unknown): Promise<void> {
        return cancelBackground(reason);
      },
    },
  ),
);

/** `shutdown()` and `background.cancelAll()`: cancels the background children and waits for them (none run on a worker). */
export function cancelBackground(reason?: unknown): Promise<void> {
  return isMainThread ? root().cancelAll(reason) : Promise.resolve();
}

/** Where the user started a background child (captured cheaply; formatted only if it is reported). */
function callSite(start: (...args: never[]) => unknown): { stack?: string } {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, start);
  return site;
}

function onMainThread(what: string): RootBranch | Child<never> {
  if (isMainThread) return root();
  // A program file that starts a background child at its top level, loaded here to find a task:
  // warned (its guard is missing), not thrown, or the module would fail to load and the task with
  // it. The main thread, running the same file as the program, starts the child; this copy never
  // starts, and its result never settles, so the module's own `.then` on it does nothing here.
  if (loadingModule() !== undefined) {
    warnTopLevelStart('a background child');
    return Object.freeze({ result: new Promise<never>(() => undefined), cancel: () => undefined });
  }
  throw new DefinitionError('ERR_BACKGROUND_OFF_MAIN_THREAD', what, thisThread().name);
}

/** A background child, as the root branch keeps it while it runs. */
interface Running {
  cancel(reason: unknown): void;
  /** Resolves when the child has settled, however. */
  readonly settled: Promise<void>;
}

/** The background children of this process and the signals it listens to for them. */
class RootBranch {
  readonly #running = new Set<Running>();
  /** The exit signal being handled (children cancelled, the signal to be raised again once they settle). */
  #stopping: NodeJS.Signals | undefined = undefined;

  start<A extends readonly unknown[], R>(kind: 'add' | 'addLocal', fn: (...args: A) => R | PromiseLike<R>, args: A, site: { stack?: string }): Child<Awaited<R>> {
    const name = typeof fn === 'function' && fn.name !== '' ? fn.name : kind === 'add' ? 'an inline function' : 'a local function';
    const what = `background child ${name}`;
    // The program is about to end: a child started now would be killed, not cancelled.
    if (this.#stopping !== undefined) return refusedChild(new CancelledError(`the process received ${this.#stopping}`, what));

    const source = new CancellationSource();
    let refused: { readonly error: unknown } | undefined;
    // Under its own token, not the caller's context: the caller's cancellation must not reach a child that outlives it.
    const ran = runInContext({ token: source.token }, () =>
      branch(
        (children: Children) => {
          try {
            children[kind](fn, ...args);
          } catch (error) {
            refused = { error };
            throw error;
          }
        },
        { graceMs: GRACE_MS },
      ),
    );
    // `branch` runs its body before its first await: a child it refuses (a function that cannot
    // be sent, arguments that may not cross) is thrown here, to the caller, like children.add's.
    if (refused !== undefined) {
      ran.catch(() => undefined);
      throw refused.error;
    }

    const result = ran.then((values) => values[0] as Awaited<R>);
    const running: Running = {
      cancel: (reason) => source.cancel(new CancelledError(reason, what)),
      settled: result.then(
        () => this.#forget(running),
        () => this.#forget(running),
      ),
    };
    this.#running.add(running);
    if (this.#running.size === 1) this.#listen();

    // Reported unless someone took the result, like a rejected promise nobody handled, with the
    // same window: Node reports an unhandled rejection once the microtasks have run.
    let taken: Promise<Awaited<R>> | undefined;
    let report: Promise<never> | undefined;
    result.catch((error: unknown) => {
      if (taken !== undefined || (source.token.cancelled && error instanceof CancelledError)) return;
      const failed = new BackgroundError(name, error);
      // Its stack is where the child was started: that is where the handling belongs.
      failed.stack = `${failed.name}: ${failed.message}${(site.stack ?? '').replace(/^[^\n]*/, '')}`;
      report = Promise.reject(failed);
    });
    return Object.freeze({
      get result(): Promise<Awaited<R>> {
        if (taken === undefined) {
          taken = result.then((value) => value);
          report?.catch(() => undefined);
        }
        return taken;
      },
      cancel: (reason?: unknown) => running.cancel(reason),
    });
  }

  async cancelAll(reason: unknown): Promise<void> {
    // A child started while the others wind down (a cancelled child that starts a last flush on its
    // way out) is cancelled too: none outlives the call, or shutdown() would end the pool under it.
    for (let running = [...this.#running]; running.length > 0; running = [...this.#running]) {
      for (const child of running) child.cancel(reason);
      await Promise.all(running.map((child) => child.settled));
    }
  }

  #forget(running: Running): void {
    this.#running.delete(running);
    if (this.#running.size === 0) this.#unlisten();
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    const theirs = process.listeners(signal).some((listener) => listener !== this.#onSignal);
    const settled = this.cancelAll(`the process received ${signal}`);
    // The program listens too: it decides whether and when to exit.
    if (theirs) return;
    // A second signal while the children wind down: the user insists, end now.
    if (this.#stopping !== undefined) return this.#raise(signal);
    this.#stopping = signal;
    void settled.then(() => this.#raise(signal));
  };

  /** Ends the process as the signal would have without us: our listeners gone, the default action runs. */
  #raise(signal: NodeJS.Signals): void {
    this.#unlisten();
    process.kill(process.pid, signal);
    // Still here: a listener was added meanwhile, and the program chose to live on.
    this.#stopping = undefined;
  }

  #listen(): void {
    for (const signal of EXIT_SIGNALS) process.on(signal, this.#onSignal);
  }

  #unlisten(): void {
    for (const signal of EXIT_SIGNALS) process.off(signal, this.#onSignal);
  }
}

/** A child that never started: its result rejects with `error`, which is not reported (a cancellation). */
function refusedChild(error: CancelledError): Child<never> {
  const result = Promise.reject(error);
  result.catch(() => undefined);
  return Object.freeze({ result, cancel: () => undefined });
}

const root = slot('background children', () => new RootBranch());
