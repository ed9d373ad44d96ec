import { availableParallelism } from 'node:os';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { CancellationSource } from '../cancellation/cancellation-source';
import type { CancellationToken } from '../cancellation/cancellation-token';
import { CancelledError } from '../errors/cancelled-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { runtime } from '../runtime';
import type { ChildJob, ChildRunner } from './child-runner';
import type { PoolOptions } from './configure';
import { startWorker } from './start-worker';
import { MessageKind, unknownMessage, type Outcome, type ToMain } from './protocol';
import { decode, decodeAll, encode, encodeAll } from './serialize';
import { deserializeError, serializeError } from './serialize-error';
import { serveSpawnMessage } from './spawn';
import { router } from './transport';

/**
 * The pool of worker threads that runs branch children, for every thread of the process.
 *
 * Workers start lazily, up to `threads`. A child goes to a worker that has nothing else running,
 * so CPU-bound children get a core each; a child whose own branch waits for its children does not
 * count as running, so nested branches deeper than the pool still find a thread. A worker holds
 * the process open exactly while it runs something; an idle one retires after `idleTimeoutMs`,
 * unless it serves monitors to other threads.
 */


interface PoolThread {
  readonly worker: Worker;
  readonly threadId: number;
  readonly name: string;
  readonly jobs: Map<number, JobRecord>;
  idleTimer: NodeJS.Timeout | undefined;
  /** It serves monitors to other threads: it is not retired when idle. */
  hosting: boolean;
  /**
   * Children its branches asked the pool to run, by the worker's own id for them, with a source
   * the pool can cancel them by if this thread dies (their branch's own token died with it).
   */
  readonly children: Map<number, { readonly id: number; readonly source: CancellationSource }>;
  /** Why it takes no more work and ends once its current work is done; unset while it serves. */
  retiring: string | undefined;
}

interface JobRecord {
  readonly id: number;
  readonly job: ChildJob;
  thread: PoolThread | undefined;
  /** How many of its own branch's children it waits for: while any, it does not hold its thread. */
  waitingOn: number;
  readonly parent: JobRecord | undefined;
  /** Stops listening to the child's token. */
  stopWatching: () => void;
}

export class ThreadPool implements ChildRunner {
  #options: PoolOptions;
  readonly #threads: PoolThread[] = [];
  readonly #queue: JobRecord[] = [];
  readonly #jobs = new Map<number, JobRecord>();
  /** Threads out of service that still finish work, ended when it is done. */
  readonly #retired = new Set<PoolThread>();
  #nextJobId = 1;
  #nextThreadNumber = 1;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  submit(job: ChildJob, parent?: JobRecord): number {
    const record: JobRecord = { id: this.#nextJobId++, job, thread: undefined, waitingOn: 0, parent, stopWatching: () => {} };
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
   * Gives up on a child that ignored cancellation past its grace: it rejects now, and its thread
   * is ended and replaced. A thread that also runs other work (a parent waiting for its nested
   * children, which may belong to another branch) is not ended under them: it takes no more work,
   * a replacement starts, and it is ended as soon as that other work is done.
   */
  terminate(id: number, why: string): void {
    const record = this.#jobs.get(id);
    const thread = record?.thread;
    if (record === undefined || thread === undefined) return;
    const others = [...thread.jobs.values()].filter((other) => other !== record);
    if (others.length === 0) {
      void this.#end(thread, `${why}; its thread was ended`);
      return;
    }
    this.#retire(thread, `${why}; its thread was ended once its other work finished`);
    this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${why} (on ${thread.name})`) });
  }

  reconfigure(options: PoolOptions): void {
    this.#options = { ...this.#options, ...options };
    this.#dispatch();
  }

  /** Ends every worker; children still queued or running reject with a {@link CancelledError}. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const record of this.#queue.splice(0)) this.#finish(record, { ok: false, error: new CancelledError(undefined, `child ${record.job.name} (the pool was shut down)`) });
    await Promise.all([...this.#threads, ...this.#retired].map((thread) => this.#end(thread, 'the pool was shut down')));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const thread = this.#threads.find(isFree) ?? this.#startThread();
      if (thread === undefined) return;
      const record = this.#queue.shift() as JobRecord;
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
  }

  #startThread(): PoolThread | undefined {
    const limit = this.#options.threads ?? availableParallelism();
    // Threads whose children all wait for nested branches, and threads that serve monitors, take no
    // new children and do not count: nesting then never starves, and a thread ended for a child
    // that ignored cancellation only ever runs that child.
    if (this.#threads.filter(countsAgainstLimit).length >= limit) return undefined;
    const name = `thread ${this.#nextThreadNumber++}`;
    const worker = startWorker(name, this.#options.resourceLimits);
    const thread: PoolThread = { worker, threadId: worker.threadId, name, jobs: new Map(), idleTimer: undefined, hosting: false, children: new Map(), retiring: undefined };
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
      case MessageKind.RunChild: {
        const parent = message.parent === undefined ? undefined : thread.jobs.get(message.parent);
        const reply = (outcome: Outcome) => {
          thread.children.delete(message.id);
          router().send(thread.threadId, { kind: MessageKind.ChildSettled, id: message.id, ...outcome });
        };
        let args: unknown[];
        let source: CancellationSource;
        try {
          args = decodeAll(message.args);
          source = new CancellationSource(decode(message.token) as CancellationToken);
        } catch (error) {
          reply({ ok: false, error: serializeError(error, runtime.threadName) });
          break;
        }
        const id = this.submit(
          {
            name: message.name,
            spec: message.spec,
            args,
            token: source.token,
            resolve: (value) => {
              source.dispose();
              const transfer: TransferListItem[] = [];
              const encoded = encode(value, transfer);
              thread.children.delete(message.id);
              router().send(thread.threadId, { kind: MessageKind.ChildSettled, id: message.id, ok: true, value: encoded }, transfer);
            },
            reject: (error) => {
              source.dispose();
              reply({ ok: false, error: serializeError(error, runtime.threadName) });
            },
          },
          parent,
        );
        thread.children.set(message.id, { id, source });
        break;
      }
      case MessageKind.TerminateChild: {
        const child = thread.children.get(message.id);
        if (child !== undefined) this.terminate(child.id, message.why);
        break;
      }
      case MessageKind.Hosting:
        thread.hosting = true;
        if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
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
    if (thread !== undefined && thread.jobs.delete(record.id) && thread.jobs.size === 0) {
      if (thread.retiring !== undefined) void this.#end(thread, thread.retiring);
      else this.#idle(thread);
    }
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
    this.#retired.delete(thread);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    router().detach(thread.threadId, `its thread crashed: ${how}`);
    this.#orphan(thread, `the thread of the branch that added it crashed: ${how}`);
    for (const record of [...thread.jobs.values()]) {
      this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${how} (on ${thread.name})`, cause === undefined ? undefined : { cause }) });
    }
    this.#dispatch();
  }

  /**
   * The children a lost thread's branches had added can no longer be awaited or cancelled by them:
   * cancel them here, and end their threads if they do not stop within the default grace.
   */
  #orphan(thread: PoolThread, why: string): void {
    for (const { id, source } of thread.children.values()) {
      source.cancel(new CancelledError(why, 'a child whose branch is gone'));
      setTimeout(() => this.terminate(id, 'it was orphaned and did not stop within 1000 ms'), 1000).unref();
    }
    thread.children.clear();
  }

  /** Takes a thread out of service: no more work goes to it, and a replacement may start. */
  #retire(thread: PoolThread, why: string): void {
    thread.retiring = why;
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    this.#retired.add(thread);
    this.#dispatch();
  }

  async #end(thread: PoolThread, why: string): Promise<void> {
    const index = this.#threads.indexOf(thread);
    if (index < 0 && !this.#retired.delete(thread)) return;
    if (index >= 0) this.#threads.splice(index, 1);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    router().detach(thread.threadId, why);
    this.#orphan(thread, `the thread of the branch that added it was ended: ${why}`);
    for (const record of [...thread.jobs.values()]) this.#finish(record, { ok: false, error: new ThreadCrashError(`child ${record.job.name}`, `${why} (on ${thread.name})`) });
    await thread.worker.terminate();
  }
}

/** A thread that may take a child now: it runs nothing, serves no monitors, and is not retiring. */
function isFree(thread: PoolThread): boolean {
  return thread.jobs.size === 0 && !thread.hosting && thread.retiring === undefined;
}

/** A thread that occupies a core: it runs a child that is not waiting, or it is idle and may take one. */
function countsAgainstLimit(thread: PoolThread): boolean {
  if (thread.hosting) return false;
  if (thread.jobs.size === 0) return true;
  for (const record of thread.jobs.values()) if (record.waitingOn === 0) return true;
  return false;
}
