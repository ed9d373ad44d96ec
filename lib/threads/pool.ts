import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { CancelledError } from '../errors/cancelled-error';
import { DefinitionError } from '../errors/definition-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { runtime } from '../runtime';
import { BatchedPort } from './batched-port';
import { workerScript } from './module-loader';
import { MessageKind, unknownMessage, type FromWorker, type TaskSpec, type ToWorker, type WorkerStart } from './protocol';
import { decodeValue, encodeValue } from './serialize';
import { deserializeError, serializeError } from './serialize-error';

/**
 * The pool of worker threads that runs branch children.
 *
 * Workers start lazily, up to `threads`. A child goes to a worker that has nothing else running,
 * so CPU-bound children get a core each; a child that waits for its own nested branch does not
 * count as running, so nested branches deeper than the pool still find a thread. A worker with
 * work holds the process open; an idle one does not, and retires after `idleTimeoutMs`.
 */

/** Options of {@link configure}. */
export interface PoolOptions {
  /**
   * How many worker threads children may use at once.
   * @default os.availableParallelism()
   */
  readonly threads?: number;
  /** Memory limits of each worker (see `worker_threads.ResourceLimits`); a worker over them crashes its child. */
  readonly resourceLimits?: ResourceLimits;
  /**
   * How long an idle worker is kept before it is ended.
   * @default 10_000
   */
  readonly idleTimeoutMs?: number;
}

/** One child sent to the pool, until it settles. */
export interface PoolJob {
  readonly name: string;
  readonly spec: TaskSpec;
  readonly args: readonly unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface PoolThread {
  readonly worker: Worker;
  readonly name: string;
  readonly port: BatchedPort<ToWorker>;
  readonly jobs: Map<number, PoolJob>;
  idleTimer: NodeJS.Timeout | undefined;
}

export class ThreadPool {
  #options: Required<Omit<PoolOptions, 'resourceLimits'>> & { resourceLimits: ResourceLimits | undefined };
  readonly #threads: PoolThread[] = [];
  readonly #queue: { id: number; job: PoolJob }[] = [];
  #nextJobId = 1;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = { threads: availableParallelism(), idleTimeoutMs: 10_000, resourceLimits: undefined, ...options };
  }

  /** Queues a child; returns its id, with which it can be cancelled. */
  submit(job: PoolJob): number {
    const id = this.#nextJobId++;
    this.#queue.push({ id, job });
    this.#dispatch();
    return id;
  }

  /** Asks a child to stop: a queued one never starts; a running one sees its signal abort. */
  cancel(id: number, reason: unknown): void {
    const queued = this.#queue.findIndex((entry) => entry.id === id);
    if (queued >= 0) {
      const [{ job }] = this.#queue.splice(queued, 1);
      job.reject(new CancelledError(reason, `child ${job.name}`));
      return;
    }
    const thread = this.#threads.find((candidate) => candidate.jobs.has(id));
    thread?.port.send({ kind: MessageKind.CancelTask, id, reason: serializeError(reason, runtime.threadName) });
  }

  /** Ends the thread running a child that did not stop in time; its child rejects, the thread is replaced on demand. */
  terminate(id: number, why: string): void {
    const thread = this.#threads.find((candidate) => candidate.jobs.has(id));
    if (thread !== undefined) this.#retire(thread, why);
  }

  reconfigure(options: PoolOptions): void {
    this.#options = { ...this.#options, ...options };
    this.#dispatch();
  }

  /** Ends every worker; children still queued or running reject with a {@link CancelledError}. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { job } of this.#queue.splice(0)) job.reject(new CancelledError(undefined, `child ${job.name} (the pool was shut down)`));
    await Promise.all([...this.#threads].map((thread) => this.#retire(thread, 'the pool was shut down')));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const thread = this.#threads.find((candidate) => candidate.jobs.size === 0) ?? this.#startThread();
      if (thread === undefined) return;
      const { id, job } = this.#queue.shift() as { id: number; job: PoolJob };
      if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
      thread.idleTimer = undefined;
      thread.jobs.set(id, job);
      thread.worker.ref();
      thread.port.send({ kind: MessageKind.RunTask, id, spec: job.spec, args: job.args.map(encodeValue) });
    }
  }

  #startThread(): PoolThread | undefined {
    if (this.#threads.length >= this.#options.threads) return undefined;
    const name = `thread ${this.#threads.length + 1}`;
    const script = workerScript(join(__dirname, `worker-entry${extname(__filename)}`));
    const worker = new Worker(script.filename, {
      eval: script.eval,
      workerData: { name } satisfies WorkerStart,
      resourceLimits: this.#options.resourceLimits,
    });
    const thread: PoolThread = {
      worker,
      name: `${name} (worker ${worker.threadId})`,
      port: new BatchedPort<ToWorker>(worker, (message, error) => {
        if (message.kind === MessageKind.RunTask) this.#settle(thread, message.id, { kind: MessageKind.TaskSettled, id: message.id, ok: false, error: serializeError(error, runtime.threadName) });
      }),
      jobs: new Map(),
      idleTimer: undefined,
    };
    worker.on('message', (batch: readonly FromWorker[]) => {
      for (const message of batch) {
        switch (message.kind) {
          case MessageKind.TaskSettled:
            this.#settle(thread, message.id, message);
            break;
          default:
            unknownMessage(message);
        }
      }
    });
    let crash: Error | undefined;
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => this.#lost(thread, crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`, crash));
    this.#threads.push(thread);
    return thread;
  }

  #settle(thread: PoolThread, id: number, message: FromWorker): void {
    const job = thread.jobs.get(id);
    if (job === undefined) return;
    thread.jobs.delete(id);
    if (message.ok) job.resolve(decodeValue(message.value));
    else job.reject(deserializeError(message.error));
    if (thread.jobs.size === 0) this.#idle(thread);
    this.#dispatch();
  }

  #idle(thread: PoolThread): void {
    thread.worker.unref();
    thread.idleTimer = setTimeout(() => void this.#retire(thread, 'it was idle'), this.#options.idleTimeoutMs);
    thread.idleTimer.unref();
  }

  /** A worker ended: every child it was running rejects, and nothing waits on it any more. */
  #lost(thread: PoolThread, how: string, cause: Error | undefined): void {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    if (thread.idleTimer !== undefined) clearTimeout(thread.idleTimer);
    for (const job of thread.jobs.values()) job.reject(new ThreadCrashError(`child ${job.name}`, `${how} (on ${thread.name})`, cause === undefined ? undefined : { cause }));
    thread.jobs.clear();
    this.#dispatch();
  }

  async #retire(thread: PoolThread, why: string): Promise<void> {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    for (const job of thread.jobs.values()) job.reject(new ThreadCrashError(`child ${job.name}`, `${why} (on ${thread.name}); its thread was ended`));
    thread.jobs.clear();
    await thread.worker.terminate();
  }
}

function extname(file: string): string {
  return file.slice(file.lastIndexOf('.'));
}

/** The pool, started on first use. Workers do not own a pool: their children run on the main thread's. */
export function pool(): ThreadPool {
  return (runtime.pool ??= new ThreadPool(runtime.poolOptions));
}

/**
 * Sets how the worker pool runs. May be called at any time: new limits apply to threads started
 * from then on, and a smaller `threads` lets extra threads retire as they become idle.
 *
 * @example
 * ```ts
 * configure({ threads: 4, idleTimeoutMs: 1000, resourceLimits: { maxOldGenerationSizeMb: 256 } });
 * ```
 */
export function configure(options: PoolOptions): void {
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'threads', 'a whole number from 1 up', String(threads));
  }
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && (typeof idle !== 'number' || !(idle >= 0))) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'idleTimeoutMs', 'a number of milliseconds from 0 up', String(idle));
  }
  runtime.poolOptions = { ...runtime.poolOptions, ...options };
  runtime.pool?.reconfigure(options);
}

/**
 * Ends every worker thread. Children still running reject; the next branch starts a new pool.
 * Not needed for a program to exit (an idle pool never holds it open), but useful in tests.
 *
 * @example
 * ```ts
 * afterAll(() => shutdown());
 * ```
 */
export async function shutdown(): Promise<void> {
  const current = runtime.pool;
  runtime.pool = undefined;
  await current?.close();
}
