import { AsyncResource } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { CancelledError } from '../errors/cancelled-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import type { ChildJob, ChildRunner } from './child-runner';
import type { PoolOptions } from './configure';
import { NEW_THREAD, placeChild } from './placement';
import { settleOutcome } from './outcome';
import { MessageKind, type Outcome, type TaskSettledMessage } from './protocol';
import { encode, encodeAll } from './serialize';
import { startWorker } from './start-worker';
import { router } from './transport';

/**
 * The pool of worker threads that runs branch children, for every thread of the process.
 *
 * Workers start lazily; where each child goes is placement.ts's decision. A worker holds the
 * process open exactly while it runs something; an idle one retires after `idleTimeoutMs`,
 * unless it serves monitors to other threads: then it waits until it exports none (`HostingEnded`).
 */

interface PoolThread {
  readonly worker: Worker;
  readonly threadId: number;
  readonly name: string;
  readonly jobs: Map<number, JobRecord>;
  idleTimer: NodeJS.Timeout | undefined;
  /** It serves monitors to other threads: it takes no children and is not retired when idle. */
  hosting: boolean;
}

interface JobRecord {
  readonly id: number;
  readonly job: ChildJob;
  thread: PoolThread | undefined;
  /** How many of its own children it waits for: while any, it does not hold its thread. */
  waitingOn: number;
  /** How many channel waits it is in: while any, it does not hold its thread either. */
  blockedOn: number;
  readonly parent: JobRecord | undefined;
  /** Stops listening to the child's token. */
  stopWatching: () => void;
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
  readonly #threads: PoolThread[] = [];
  readonly #queue: JobRecord[] = [];
  readonly #jobs = new Map<number, JobRecord>();
  #nextJobId = 1;
  #nextThreadNumber = 1;
  #closed = false;

  /** Tells the record of workers' children that a thread which may have asked for some ended (threads/child-runner.ts). */
  readonly #orphanChildrenOf: (threadId: number, why: string) => void;

  constructor(options: PoolOptions, orphanChildrenOf: (threadId: number, why: string) => void) {
    this.#options = options;
    this.#orphanChildrenOf = orphanChildrenOf;
  }

  /** How many worker threads the pool has now. */
  get size(): number {
    return this.#threads.length;
  }

  submit(job: ChildJob): number {
    const parent = job.parent === undefined ? undefined : this.#jobs.get(job.parent);
    const record: JobRecord = { id: this.#nextJobId++, job, thread: undefined, waitingOn: 0, blockedOn: 0, parent, stopWatching: () => {} };
    if (parent !== undefined) parent.waitingOn++;
    this.#jobs.set(record.id, record);
    this.#queue.push(record);
    // A child cancelled while it waits for a thread never starts.
    record.stopWatching = job.token.onCancel((reason) => {
      if (record.thread !== undefined) return;
      const index = this.#queue.indexOf(record);
      if (index >= 0) this.#queue.splice(index, 1);
      this.#finish(record, { ok: false, error: new CancelledError(reason, `child ${job.name}`) });
    });
    this.#dispatch();
    return record.id;
  }

  /**
   * Gives up on a child that ignored cancellation past its grace: its thread is ended and will be
   * replaced. The only other work such a thread can hold is the child's own waiting ancestors,
   * which fail with it.
   */
  terminate(id: number, why: string): void {
    const thread = this.#jobs.get(id)?.thread;
    if (thread !== undefined) void this.#end(thread, `${why}; its thread was ended`);
  }

  reconfigure(options: PoolOptions): void {
    this.#options = { ...this.#options, ...options };
    this.#dispatch();
  }

  /** Ends every worker; children still queued or running reject with a {@link CancelledError}. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const record of this.#queue.splice(0)) this.#finish(record, { ok: false, error: new CancelledError(undefined, `child ${record.job.name} (the pool was shut down)`) });
    await Promise.all([...this.#threads].map((thread) => this.#end(thread, 'the pool was shut down')));
  }

  blocked(job: number, delta: 1 | -1): void {
    const record = this.#jobs.get(job);
    if (record === undefined) return;
    record.blockedOn += delta;
    // A thread whose children all wait may make room for the children that end their waits.
    if (delta === 1) this.#dispatch();
  }

  /** Sends every queued child that has a place to go, in queue order; the others wait. */
  #dispatch(): void {
    for (let index = 0; index < this.#queue.length && !this.#closed; ) {
      const record = this.#queue[index] as JobRecord;
      const thread = this.#placeFor(record);
      if (thread === undefined) {
        index++;
        continue;
      }
      this.#queue.splice(index, 1);
      this.#run(record, thread);
    }
  }

  #placeFor(record: JobRecord): PoolThread | undefined {
    const place = placeChild(record, this.#threads, this.#options.threads ?? availableParallelism());
    return place === NEW_THREAD ? this.#startThread() : place;
  }

  #run(record: JobRecord, thread: PoolThread): void {
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    thread.idleTimer = undefined;
    if (thread.jobs.size === 0) router().hold(thread.threadId, 1);
    thread.jobs.set(record.id, record);
    record.thread = thread;
    const transfer: TransferListItem[] = [];
    try {
      const args = encodeAll(record.job.args, transfer);
      const token = encode(record.job.token, transfer);
      router().send(thread.threadId, { kind: MessageKind.RunTask, id: record.id, spec: record.job.spec, args, token }, transfer);
    } catch (error) {
      this.#finish(record, { ok: false, error });
    }
  }

  #startThread(): PoolThread {
    const name = `thread ${this.#nextThreadNumber++}`;
    const worker = OUTSIDE_BRANCHES.runInAsyncScope(() => startWorker(name, this.#options.resourceLimits));
    const thread: PoolThread = { worker, threadId: worker.threadId, name, jobs: new Map(), idleTimer: undefined, hosting: false };
    router().attach(worker, name);
    let crash: Error | undefined;
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => this.#lost(thread, crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`, crash));
    this.#threads.push(thread);
    return thread;
  }

  /** A child finished on the pool thread `threadId`. */
  taskSettled(threadId: number, message: TaskSettledMessage): void {
    const record = this.#threadOf(threadId)?.jobs.get(message.id);
    if (record !== undefined) this.#finish(record, message.ok ? { ok: true, value: message.value } : message, true);
  }

  /** The thread `threadId` serves monitors to other threads now: if it is one of the pool's, it takes no more children and never retires. */
  hosting(threadId: number): void {
    const thread = this.#threadOf(threadId);
    if (thread === undefined) return;
    thread.hosting = true;
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    // It takes no more children: one that was counting on it may start elsewhere now.
    this.#dispatch();
  }

  /** The thread `threadId` serves no monitor any more: it takes children again, and retires when idle. */
  hostingEnded(threadId: number): void {
    const thread = this.#threadOf(threadId);
    if (thread === undefined || !thread.hosting) return;
    thread.hosting = false;
    if (thread.jobs.size === 0) this.#retireWhenIdle(thread);
    this.#dispatch();
  }

  #threadOf(threadId: number): PoolThread | undefined {
    return this.#threads.find((thread) => thread.threadId === threadId);
  }

  /**
   * Settles a child. `fromThread` outcomes are still encoded and get decoded here. Its parent,
   * if any, holds its thread again; its own thread may become free or idle.
   */
  #finish(record: JobRecord, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }, fromThread = false): void {
    if (!this.#jobs.delete(record.id)) return;
    record.stopWatching();
    if (record.parent !== undefined) record.parent.waitingOn--;
    const thread = record.thread;
    if (thread !== undefined && thread.jobs.delete(record.id) && thread.jobs.size === 0) this.#idle(thread);
    try {
      if (fromThread) settleOutcome(outcome as Outcome, record.job, record.job.origin?.stack);
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
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    thread.idleTimer = setTimeout(() => void this.#end(thread, 'it was idle'), this.#options.idleTimeoutMs ?? 10_000);
    thread.idleTimer.unref();
  }

  /** A worker ended, whatever the cause: every child it was running rejects, and every call to its monitors. */
  #lost(thread: PoolThread, how: string, cause: Error | undefined): void {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    router().detach(thread.threadId, `its thread crashed: ${how}`);
    this.#orphanChildrenOf(thread.threadId, `the thread of the branch that added it crashed: ${how}`);
    for (const record of [...thread.jobs.values()]) {
      this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${how} (on ${thread.name})`, cause === undefined ? undefined : { cause }) });
    }
    this.#dispatch();
  }

  async #end(thread: PoolThread, why: string): Promise<void> {
    const index = this.#threads.indexOf(thread);
    if (index < 0) return;
    this.#threads.splice(index, 1);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    router().detach(thread.threadId, why);
    this.#orphanChildrenOf(thread.threadId, `the thread of the branch that added it was ended: ${why}`);
    for (const record of [...thread.jobs.values()]) this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${why} (on ${thread.name})`) });
    await thread.worker.terminate();
  }
}
