import { availableParallelism } from 'node:os';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { CancelledError } from '../errors/cancelled-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { childRequests } from './child-requests';
import type { ChildJob, ChildRunner } from './child-runner';
import type { PoolOptions } from './configure';
import { MessageKind, unknownMessage, type ToMain } from './protocol';
import { decode, encode, encodeAll } from './serialize';
import { deserializeError } from './serialize-error';
import { serveSpawnMessage } from './spawn';
import { startWorker } from './start-worker';
import { router } from './transport';

/**
 * The pool of worker threads that runs branch children, for every thread of the process.
 *
 * Workers start lazily. A child goes, in this order of preference:
 * 1. to an idle thread;
 * 2. to a new thread, while fewer than `threads` threads do work (threads whose children all
 *    wait do not count, so nesting never starves), and never more than {@link THREAD_CAP_FACTOR}
 *    times `threads` in all (threads that serve monitors, which work like actors, aside);
 * 3. at that cap, to the thread of one of its ancestors whose children all wait (for a nested
 *    branch, or a monitor call that runs one): it runs there once that ancestor awaits. Such a
 *    thread only ever holds one family of children, so ending it never harms another branch.
 * A thread that serves monitors to other threads takes no children, so no CPU-bound child can
 * stall calls to its monitors. A worker holds the process open exactly while it runs something;
 * an idle one retires after `idleTimeoutMs`, unless it serves monitors.
 */

/** However deep the nesting, the pool never starts more than this many times `threads` threads. */
const THREAD_CAP_FACTOR = 4;

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

export class ThreadPool implements ChildRunner {
  #options: PoolOptions;
  readonly #threads: PoolThread[] = [];
  readonly #queue: JobRecord[] = [];
  readonly #jobs = new Map<number, JobRecord>();
  #nextJobId = 1;
  #nextThreadNumber = 1;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
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
    const idle = this.#threads.find((thread) => thread.jobs.size === 0 && !thread.hosting) ?? this.#startThread();
    if (idle !== undefined) return idle;
    for (let ancestor = record.parent; ancestor !== undefined; ancestor = ancestor.parent) {
      const thread = ancestor.thread;
      if (thread !== undefined && allWaiting(thread)) return thread;
    }
    return undefined;
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

  #startThread(): PoolThread | undefined {
    const limit = this.#options.threads ?? availableParallelism();
    const working = this.#threads.filter((thread) => !thread.hosting);
    if (working.filter(countsAgainstLimit).length >= limit || working.length >= limit * THREAD_CAP_FACTOR) return undefined;
    const name = `thread ${this.#nextThreadNumber++}`;
    const worker = startWorker(name, this.#options.resourceLimits);
    const thread: PoolThread = { worker, threadId: worker.threadId, name, jobs: new Map(), idleTimer: undefined, hosting: false };
    router().attach(worker, name, (message) => this.#onMessage(thread, message));
    let crash: Error | undefined;
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => this.#lost(thread, crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`, crash));
    this.#threads.push(thread);
    return thread;
  }

  #onMessage(thread: PoolThread, message: ToMain): void {
    switch (message.kind) {
      case MessageKind.TaskSettled: {
        const record = thread.jobs.get(message.id);
        if (record !== undefined) this.#finish(record, message.ok ? { ok: true, value: message.value } : message, true);
        break;
      }
      case MessageKind.RunChild:
      case MessageKind.TerminateChild:
        childRequests().serve(thread.threadId, message);
        break;
      case MessageKind.Hosting:
        thread.hosting = true;
        if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
        // It takes no more children: one that was counting on it may start elsewhere now.
        this.#dispatch();
        break;
      case MessageKind.Spawn:
      case MessageKind.CloseActor:
        serveSpawnMessage(thread.threadId, message);
        break;
      default:
        unknownMessage(message);
    }
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
      if (outcome.ok) record.job.resolve(fromThread ? decode(outcome.value as Parameters<typeof decode>[0]) : outcome.value);
      else record.job.reject(fromThread ? deserializeError(outcome.error as Parameters<typeof deserializeError>[0], record.job.origin?.stack) : outcome.error);
    } catch (error) {
      record.job.reject(error);
    }
    this.#dispatch();
  }

  #idle(thread: PoolThread): void {
    router().hold(thread.threadId, -1);
    if (thread.hosting) return;
    thread.idleTimer = setTimeout(() => void this.#end(thread, 'it was idle'), this.#options.idleTimeoutMs ?? 10_000);
    thread.idleTimer.unref();
  }

  /** A worker ended, whatever the cause: every child it was running rejects, and every call to its monitors. */
  #lost(thread: PoolThread, how: string, cause: Error | undefined): void {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    router().detach(thread.threadId, `its thread crashed: ${how}`);
    childRequests().orphan(thread.threadId, `the thread of the branch that added it crashed: ${how}`);
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
    childRequests().orphan(thread.threadId, `the thread of the branch that added it was ended: ${why}`);
    for (const record of [...thread.jobs.values()]) this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${why} (on ${thread.name})`) });
    await thread.worker.terminate();
  }
}

/** A thread whose every child waits, for its own children or on a channel. */
function allWaiting(thread: PoolThread): boolean {
  for (const record of thread.jobs.values()) if (record.waitingOn === 0 && record.blockedOn === 0) return false;
  return thread.jobs.size > 0;
}

/** A thread that occupies a core: it runs a child that is not waiting, or it is idle and may take one. */
function countsAgainstLimit(thread: PoolThread): boolean {
  return thread.jobs.size === 0 || !allWaiting(thread);
}
