import { AsyncResource } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { tokenMarker } from '../cancellation/cancellation-token';
import { CancelledError } from '../errors/cancelled-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { giveBackUnread } from '../monitor/undelivered-markers';
import { CLAIM_WORDS, claimTicket } from './children-ahead';
import type { ChildJob, ChildRunner } from './child-runner';
import type { PoolOptions } from './configure';
import { NEW_THREAD, PlacedChild, PlacedThread, Placement } from './placement';
import { settleOutcome } from './outcome';
import { MessageKind, type Encoded, type Outcome, type RunTaskMessage, type TaskSettledMessage } from './protocol';
import { encodeAll } from './serialize';
import { startWorker } from './start-worker';
import { SentTasks } from './task-numbers';
import { router } from './transport';

/**
 * The pool of worker threads that runs branch children, for every thread of the process.
 *
 * Workers start lazily; where and when each child goes is placement.ts's decision, in constant
 * time per child. A worker holds the process open exactly while it runs something; an idle one
 * retires after `idleTimeoutMs`, unless it serves monitors to other threads: then it waits until
 * it exports none (`HostingEnded`).
 */

class PoolThread extends PlacedThread {
  /** Since when it has been idle (`performance.now()`), or undefined while it runs children or serves monitors. */
  idleSince: number | undefined = undefined;
  /**
   * The timer that retires it once it has been idle for `idleTimeoutMs`. Armed when it first falls
   * idle and then left running: when it fires, it looks at `idleSince` and waits again for what is
   * left. A thread given one child at a time falls idle after each, and a new timer for each
   * was a cost per child.
   */
  retirement: NodeJS.Timeout | undefined = undefined;
  /** Shared with the thread: one word per child sent ahead, which the thread claims or the pool takes back. */
  readonly claims = new Int32Array(new SharedArrayBuffer(CLAIM_WORDS * Int32Array.BYTES_PER_ELEMENT));
  /**
   * The thread has the claim words: it settled a child, and every child sent before that carried
   * them (one message of a batch may fail to go alone, so not the first message sent).
   */
  hasClaims = false;
  #nextClaim = 0;
  /** The tasks it was sent in full, which its later children name by number. */
  readonly tasks = new SentTasks();

  /** Kept from the start: `worker.threadId` reads -1 once the thread has exited, when it is needed most. */
  readonly threadId: number;

  constructor(
    readonly worker: Worker,
    readonly name: string,
  ) {
    super();
    this.threadId = worker.threadId;
  }

  /** Writes a child's ticket into a free claim word; returns the word. */
  reserveClaim(id: number): number {
    for (let step = 0; step < CLAIM_WORDS; step++) {
      const word = (this.#nextClaim + step) % CLAIM_WORDS;
      if (Atomics.compareExchange(this.claims, word, 0, claimTicket(id)) === 0) {
        this.#nextClaim = word + 1;
        return word;
      }
    }
    // A thread holds at most IN_FLIGHT_PER_THREAD children sent ahead and not yet claimed.
    throw new Error(`safethread: every claim word of ${this.name} is taken; this is a bug in safethread`);
  }
}

class JobRecord extends PlacedChild {
  /** Stops listening to the child's token. */
  stopWatching: () => void = () => {};
  /** The claim word it was sent ahead with; -1 when it was not. */
  claim = -1;
  /** Its arguments as last sent ahead: what to give back if it is taken back unread (monitor/undelivered-markers.ts). */
  sentArgs: readonly Encoded[] = [];

  constructor(
    readonly id: number,
    readonly job: ChildJob,
    parent: JobRecord | undefined,
  ) {
    super(parent);
  }
}

/**
 * Where workers start: outside every branch. A worker's port keeps the async context it was made
 * in for the thread's life, so one started inside a branch would keep that branch's token, and
 * through it the branch's results (monitor references that could then never be released).
 * Made when this module loads, outside any branch; it holds no state.
 */
const OUTSIDE_BRANCHES = new AsyncResource('safethread pool thread');

export class ThreadPool implements ChildRunner {
  #options: PoolOptions;
  /** By thread id. */
  readonly #threads = new Map<number, PoolThread>();
  readonly #jobs = new Map<number, JobRecord>();
  readonly #placement: Placement;
  #nextJobId = 1;
  #nextThreadNumber = 1;
  #closed = false;
  #dispatching = false;

  /** Tells the record of workers' children that a thread which may have asked for some ended (threads/child-runner.ts). */
  readonly #orphanChildrenOf: (threadId: number, why: string) => void;

  constructor(options: PoolOptions, orphanChildrenOf: (threadId: number, why: string) => void) {
    this.#options = options;
    this.#orphanChildrenOf = orphanChildrenOf;
    this.#placement = new Placement(options.threads ?? availableParallelism(), (child) => withdraw(child as JobRecord));
  }

  /** How many worker threads the pool has now. */
  get size(): number {
    return this.#threads.size;
  }

  prepare(): void {
    if (this.#closed || this.#threads.size > 0 || this.#placement.limit < 1) return;
    // If the child never comes (preparing it failed), the thread retires like any idle one.
    this.#retireWhenIdle(this.#startThread());
  }

  submit(job: ChildJob): number {
    const parent = job.parent === undefined ? undefined : this.#jobs.get(job.parent);
    const record = new JobRecord(this.#nextJobId++, job, parent);
    this.#jobs.set(record.id, record);
    this.#placement.add(record);
    // A child cancelled while it waits for a thread, or waits ahead on one, never starts.
    const onCancel = job.onCancel ?? ((listener: (reason: unknown) => void) => job.token.onCancel(listener));
    record.stopWatching = onCancel((reason) => {
      if (this.#placement.cancel(record)) this.#finish(record, { ok: false, error: new CancelledError(reason, `child ${job.name}`) });
    });
    this.#dispatch();
    return record.id;
  }

  /**
   * Gives up on a child that ignored cancellation past its grace: its thread is ended and will be
   * replaced. The only other work such a thread can hold is the child's own waiting ancestors,
   * which fail with it, and children sent ahead, which go to other threads.
   */
  terminate(id: number, why: string): void {
    const record = this.#jobs.get(id);
    // One still waiting ahead of another child has not started: it leaves, and its thread stays.
    if (record?.ahead === true && this.#placement.cancel(record)) {
      this.#finish(record, { ok: false, error: new CancelledError(why, `child ${record.job.name}`) });
      return;
    }
    const thread = record?.thread;
    if (thread !== undefined) void this.#end(thread as PoolThread, `${why}; its thread was ended`);
  }

  reconfigure(options: PoolOptions): void {
    const idleTimeoutMs = this.#idleTimeoutMs;
    this.#options = { ...this.#options, ...options };
    this.#placement.limit = this.#options.threads ?? availableParallelism();
    // Idle threads retire by the new timeout, not the one their timers were armed with: a timer
    // that fires at once works out what is left of it.
    if (this.#idleTimeoutMs !== idleTimeoutMs) {
      for (const thread of this.#threads.values()) {
        if (thread.retirement !== undefined) clearTimeout(thread.retirement);
        thread.retirement = undefined;
        if (thread.idleSince !== undefined) this.#armRetirement(thread, 0);
      }
    }
    this.#dispatch();
  }

  /** Ends every worker; children still queued or running reject with a {@link CancelledError}. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#placement.drain()) this.#finish(child as JobRecord, { ok: false, error: this.#shutDown(child as JobRecord) });
    await Promise.all([...this.#threads.values()].map((thread) => this.#end(thread, 'the pool was shut down')));
  }

  blocked(job: number, delta: 1 | -1): void {
    const record = this.#jobs.get(job);
    if (record === undefined) return;
    this.#placement.blocked(record, delta);
    // A thread whose children all wait may make room for the children that end their waits.
    if (delta === 1) this.#dispatch();
  }

  /** Sends every child that has a place to go, in queue order; the others wait. */
  #dispatch(): void {
    // A child that fails to go (its arguments cannot be sent) settles, which dispatches again: the loop here goes on instead.
    if (this.#dispatching || this.#closed) return;
    this.#dispatching = true;
    try {
      for (let placing = this.#placement.next(); placing !== undefined; placing = this.#placement.next()) {
        const thread = placing.thread === NEW_THREAD ? this.#startThread() : (placing.thread as PoolThread);
        this.#send(placing.child as JobRecord, thread, placing.ahead);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  #send(record: JobRecord, thread: PoolThread, ahead: boolean): void {
    if (thread.children.size === 0) {
      thread.idleSince = undefined;
      router().hold(thread.threadId, 1);
    }
    // The child it starts behind: the last one sent ahead, else the one the thread runs.
    const after = ahead ? (thread.ahead[thread.ahead.length - 1] ?? firstOf(thread.children)) : undefined;
    this.#placement.assign(record, thread, ahead);
    try {
      const transfer: TransferListItem[] = [];
      const args = encodeAll(record.job.args, transfer);
      if (after !== undefined) record.claim = thread.reserveClaim(record.id);
      // Only a child sent ahead can be taken back unread: only its arguments may have to be given back.
      record.sentArgs = after === undefined ? [] : args;
      const ahead = after === undefined ? undefined : { after: (after as JobRecord).id, claim: record.claim };
      const claims = thread.hasClaims ? undefined : (thread.claims.buffer as SharedArrayBuffer);
      const message: RunTaskMessage = { kind: MessageKind.RunTask, id: record.id, ...thread.tasks.describe(record.job.spec), args, token: tokenMarker(record.job.token), ahead, claims };
      router().send(thread.threadId, message, transfer);
    } catch (error) {
      this.#finish(record, { ok: false, error });
    }
  }

  #startThread(): PoolThread {
    const name = `thread ${this.#nextThreadNumber++}`;
    const thread = new PoolThread(
      OUTSIDE_BRANCHES.runInAsyncScope(() => startWorker(name, this.#options.resourceLimits)),
      name,
    );
    const { worker } = thread;
    router().attach(worker, name);
    let crash: Error | undefined;
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => this.#lost(thread, crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`, crash));
    this.#threads.set(thread.threadId, thread);
    this.#placement.addThread(thread);
    return thread;
  }

  /** A child finished on the pool thread `threadId`; only that thread's own children are taken. */
  taskSettled(threadId: number, message: TaskSettledMessage): void {
    const thread = this.#threads.get(threadId);
    const record = this.#jobs.get(message.id);
    if (thread === undefined || record === undefined || record.thread !== thread) return;
    thread.hasClaims = true;
    this.#finish(record, message.ok ? { ok: true, value: message.value } : message, true);
  }

  /** The thread `threadId` serves monitors to other threads now: if it is one of the pool's, it takes no more children and never retires. */
  hosting(threadId: number): void {
    const thread = this.#threads.get(threadId);
    if (thread === undefined) return;
    thread.idleSince = undefined;
    // It takes no more children (those sent ahead to it go elsewhere): one that was counting on it may start elsewhere now.
    this.#placement.setHosting(thread, true);
    this.#dispatch();
  }

  /** The thread `threadId` serves no monitor any more: it takes children again, and retires when idle. */
  hostingEnded(threadId: number): void {
    const thread = this.#threads.get(threadId);
    if (thread === undefined || !thread.hosting) return;
    this.#placement.setHosting(thread, false);
    if (thread.children.size === 0) this.#retireWhenIdle(thread);
    this.#dispatch();
  }

  /**
   * Settles a child. `fromThread` outcomes are still encoded and get decoded here. Its parent,
   * if any, holds its thread again; its own thread may become free or idle.
   */
  #finish(record: JobRecord, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }, fromThread = false): void {
    if (!this.#jobs.delete(record.id)) return;
    record.stopWatching();
    const thread = record.thread as PoolThread | undefined;
    const held = thread !== undefined && thread.children.has(record);
    this.#placement.leave(record);
    if (held && thread.children.size === 0 && !thread.gone) this.#idle(thread);
    try {
      // The stack of where the child was added is costly to read: only a failure joins it to its own.
      if (fromThread) settleOutcome(outcome as Outcome, record.job, outcome.ok ? undefined : record.job.origin?.stack);
      else if (outcome.ok) record.job.resolve(outcome.value);
      else record.job.reject(outcome.error);
    } catch (error) {
      record.job.reject(error);
    }
    this.#dispatch();
  }

  #idle(thread: PoolThread): void {
    router().hold(thread.threadId, -1);
    if (!thread.hosting) this.#retireWhenIdle(thread);
  }

  #retireWhenIdle(thread: PoolThread): void {
    thread.idleSince = performance.now();
    if (thread.retirement === undefined) this.#armRetirement(thread, this.#idleTimeoutMs);
  }

  #armRetirement(thread: PoolThread, ms: number): void {
    thread.retirement = setTimeout(() => {
      thread.retirement = undefined;
      // Busy since, or serving monitors: it is armed again when it next falls idle.
      if (thread.idleSince === undefined || thread.gone) return;
      const left = thread.idleSince + this.#idleTimeoutMs - performance.now();
      if (left > 0) this.#armRetirement(thread, left);
      else void this.#end(thread, 'it was idle');
    }, ms);
    thread.retirement.unref();
  }

  get #idleTimeoutMs(): number {
    return this.#options.idleTimeoutMs ?? 10_000;
  }

  /**
   * A thread leaves the pool: children sent ahead to it that it had not started go to other
   * threads (or, when the pool shuts down, reject), and every child it ran rejects.
   */
  #remove(thread: PoolThread, why: string, failure: (record: JobRecord) => unknown): void {
    this.#threads.delete(thread.threadId);
    if (thread.retirement !== undefined) clearTimeout(thread.retirement);
    const withdrawn = this.#placement.removeThread(thread, !this.#closed);
    router().detach(thread.threadId, why);
    for (const child of withdrawn) this.#finish(child as JobRecord, { ok: false, error: this.#shutDown(child as JobRecord) });
    for (const child of [...thread.children]) this.#finish(child as JobRecord, { ok: false, error: failure(child as JobRecord) });
  }

  /** A worker ended, whatever the cause: every child it was running rejects, and every call to its monitors. */
  #lost(thread: PoolThread, how: string, cause: Error | undefined): void {
    if (thread.gone) return;
    this.#orphanChildrenOf(thread.threadId, `the thread of the branch that added it crashed: ${how}`);
    this.#remove(thread, `its thread crashed: ${how}`, (record) => new ThreadCrashError(`child ${record.job.name}`, `${how} (on ${thread.name})`, cause === undefined ? undefined : { cause }));
    this.#dispatch();
  }

  async #end(thread: PoolThread, why: string): Promise<void> {
    if (thread.gone) return;
    this.#orphanChildrenOf(thread.threadId, `the thread of the branch that added it was ended: ${why}`);
    this.#remove(thread, why, (record) => new ThreadCrashError(`child ${record.job.name}`, `${why} (on ${thread.name})`));
    await thread.worker.terminate();
  }

  #shutDown(record: JobRecord): CancelledError {
    return new CancelledError(undefined, `child ${record.job.name} (the pool was shut down)`);
  }
}

/** Takes back a child sent ahead, unless its thread claimed it first (see threads/children-ahead.ts). */
function withdraw(record: JobRecord): boolean {
  const thread = record.thread as PoolThread | undefined;
  if (thread === undefined || record.claim < 0) return false;
  const ticket = claimTicket(record.id);
  if (Atomics.compareExchange(thread.claims, record.claim, ticket, 0) !== ticket) return false;
  router().withdrawJob(thread.threadId, record.id);
  // Its thread never read its arguments: the references they carried count at their owners no more.
  giveBackUnread(record.sentArgs);
  record.sentArgs = [];
  return true;
}

function firstOf<T>(set: ReadonlySet<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}
