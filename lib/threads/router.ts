import type { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { thisThread } from '../runtime';
import { BatchedPort, ignoreStray, receiveBatch } from './batched-port';
import { callKey } from './call-key';
import { MessageKind, type CallMessage, type SubscribeMessage, type ThreadGoneMessage, type ToMain, type ToWorker } from './protocol';
import { serializeError } from './serialize-error';
import { threadLiveness } from './thread-liveness';
import type { Transport } from './transport';

/**
 * The main thread's switchboard: it holds a link to every worker, forwards monitor calls and
 * their results between threads, and keeps track of every call in flight to each thread, so that
 * when a thread dies each of those calls is answered with a {@link MonitorClosedError}, and a call
 * to a thread that is gone is answered at once. No call is ever left waiting on a dead thread.
 *
 * It also keeps a worker referenced (holding the process open) exactly while someone waits on it.
 *
 * It forwards and tracks only: what a message for the main thread itself does (whoever sent it)
 * is up to the receiver the main thread's start-up gives it (threads/main-thread.ts).
 */

/** What reaches the main thread itself: messages from workers, and the router's word that a thread ended. */
export type MainThreadMessage = ToMain | ThreadGoneMessage;

/** Handles a message that reached the main thread; `from` is the worker it came from, or the main thread for its own (and the router's). */
export type Receiver = (message: MainThreadMessage, from: number) => void;

interface Link {
  readonly worker: Worker;
  readonly name: string;
  readonly port: BatchedPort<ToWorker>;
  /** What callers wait for from this thread: calls in flight and live streams, by {@link callKey}. */
  readonly requests: Map<number, Request>;
  /** How many waits hold this worker: it is referenced while any does. */
  holds: number;
  /** The pool's children sent to run on this thread and not settled yet, by job id: the jobs it may say are blocked. */
  readonly jobs: Set<number>;
  /** `dumpMonitors()` requests sent to this thread and not answered yet: the only answers it may give. */
  readonly dumps: Set<number>;
}

export class Router implements Transport {
  readonly #links = new Map<number, Link>();
  /** Threads that ended, and why, to answer late calls. */
  readonly #gone = new Map<number, string>();
  readonly #receiveHere: Receiver;

  /** @param receiveHere - what the main thread does with a message for itself */
  constructor(receiveHere: Receiver) {
    this.#receiveHere = receiveHere;
  }

  attach(worker: Worker, name: string): void {
    const link: Link = {
      worker,
      name,
      port: new BatchedPort<ToWorker>(worker, (message, error) => this.#undeliverable(worker.threadId, message, error)),
      requests: new Map(),
      holds: 0,
      jobs: new Set(),
      dumps: new Set(),
    };
    this.#links.set(worker.threadId, link);
    worker.unref();
    // Once its thread has stopped for good, the locks in shared memory it held may be taken over (shared-dict/write-lock.ts).
    const threadId = worker.threadId;
    worker.once('exit', () => threadLiveness().threadEnded(threadId));
    // Anything a worker's code posts on its parentPort arrives here too: receiveBatch keeps only messages.
    worker.on('message', (batch: unknown) => {
      receiveBatch<ToMain>(batch, name, (message) => this.#receive(link, message));
    });
  }

  /** A worker ended: every call in flight to it is answered, and later ones will be at once. */
  detach(threadId: number, why: string): void {
    threadLiveness().threadEnding(threadId);
    const link = this.#links.get(threadId);
    this.#links.delete(threadId);
    this.#gone.set(threadId, why);
    // What the dead thread asked of others is forgotten here, and each thread drops it too.
    for (const other of this.#links.values()) {
      for (const [key, request] of other.requests) if (request.from === threadId) this.#forget(other, key);
      other.port.send({ kind: MessageKind.ThreadGone, thread: threadId, why });
    }
    this.#receiveHere({ kind: MessageKind.ThreadGone, thread: threadId, why }, thisThread().id);
    if (link === undefined) return;
    for (const request of link.requests.values()) this.#answer(request, new MonitorClosedError(request.label, why), true);
    link.requests.clear();
  }

  /** The threads attached (alive) now. */
  threads(): number[] {
    return [...this.#links.keys()];
  }

  /** Whether a thread is attached (alive) now. */
  has(threadId: number): boolean {
    return this.#links.has(threadId);
  }

  /**
   * The pool took back a child it had sent ahead to `threadId` before the thread claimed it: the
   * thread never runs it, so it has nothing to say of it, and the id is not kept for good.
   */
  withdrawJob(threadId: number, id: number): void {
    this.#links.get(threadId)?.jobs.delete(id);
  }

  /** How many of the pool's children a thread may still speak for (tests). */
  jobCount(threadId: number): number {
    return this.#links.get(threadId)?.jobs.size ?? 0;
  }

  /** Holds a worker referenced while something waits on it; release with -1. */
  hold(threadId: number, delta: 1 | -1): void {
    const link = this.#links.get(threadId);
    if (link === undefined) return;
    link.holds += delta;
    if (link.holds === 1 && delta === 1) link.worker.ref();
    if (link.holds === 0) link.worker.unref();
  }

  send(to: number, message: ToMain | ToWorker, transfer?: readonly TransferListItem[]): void {
    if (to === thisThread().id) {
      this.#receiveHere(message as ToMain, thisThread().id);
      return;
    }
    const link = this.#links.get(to);
    if (message.kind === MessageKind.Call || message.kind === MessageKind.Subscribe) {
      if (link === undefined) {
        this.#answer(message, new MonitorClosedError(message.label, this.#gone.get(to) ?? 'its thread is gone'), true);
        return;
      }
      // A call in flight or a live stream holds its thread referenced.
      link.requests.set(callKey(message.from, message.callId), message);
      if (link.requests.size === 1) this.hold(to, 1);
    }
    if (message.kind === MessageKind.Unsubscribe && link !== undefined) this.#forget(link, callKey(message.from, message.callId));
    // What the thread is asked to do, so that it can answer for that and nothing else.
    if (message.kind === MessageKind.RunTask) link?.jobs.add(message.id);
    if (message.kind === MessageKind.DumpMonitors) link?.dumps.add(message.requestId);
    link?.port.send(message as ToWorker, transfer);
  }

  /**
   * A message from a worker: forwarded when it is for another thread (tracking calls and streams), else received here.
   * A call's result and a stream's events pass only from the thread the call or stream was sent to, while it is in
   * flight: so no thread can settle another's call (its requests are this link's alone). A message that names its
   * sender (`from`) passes only in the sender's own name, so its receiver can tell what that sender is entitled to:
   * the markers it holds, the monitors it may close, the calls its probes found. What is not the worker's to send is
   * ignored, with the one warning of {@link ignoreStray}.
   */
  #receive(link: Link, message: ToMain): void {
    switch (message.kind) {
      case MessageKind.Call:
      case MessageKind.Subscribe:
      case MessageKind.Unsubscribe:
        // A thread calls (and subscribes) as itself only: a forged caller would steal that caller's results.
        if (message.from !== link.worker.threadId) ignoreStray(link.name, message, `a ${message.kind} message in the name of thread ${String(message.from)}`);
        else this.#forward(link, message);
        break;
      case MessageKind.CallResult: {
        const key = callKey(message.to, message.callId);
        if (!link.requests.has(key)) {
          // A caller that ended had its calls forgotten: their late results go nowhere, quietly.
          if (!this.#gone.has(message.to)) ignoreStray(link.name, message, `a call-result for call ${String(message.callId)} of thread ${String(message.to)}, which it was not asked`);
          break;
        }
        this.#forget(link, key);
        this.#forward(link, message);
        break;
      }
      case MessageKind.StreamEvent: {
        const key = callKey(message.to, message.callId);
        // An event after its subscriber unsubscribed (or ended) is late, not stray: dropped quietly.
        if (!link.requests.has(key)) break;
        if (message.event !== 'next') this.#forget(link, key);
        this.#forward(link, message);
        break;
      }
      case MessageKind.DeadlockProbe:
      case MessageKind.DeadlockVerdict:
      case MessageKind.Release:
      case MessageKind.CloseMonitor:
        if (message.from !== link.worker.threadId) ignoreStray(link.name, message, `a ${message.kind} message in the name of thread ${String(message.from)}`);
        else this.#forward(link, message);
        break;
      case MessageKind.JobBlocked:
        // Only a thread doing the job's work can be blocked in it: one running the job, or serving a call the job made.
        if (this.#works(link, message.job)) this.#receiveHere(message, link.worker.threadId);
        else ignoreStray(link.name, message, `a job-blocked message for job ${String(message.job)}, which is not running there`);
        break;
      case MessageKind.TaskSettled:
        this.#receiveHere(message, link.worker.threadId);
        link.jobs.delete(message.id);
        break;
      case MessageKind.MonitorsDumped:
        if (link.dumps.delete(message.requestId)) this.#receiveHere(message, link.worker.threadId);
        else ignoreStray(link.name, message, `a monitors-dumped answer to request ${String(message.requestId)}, which it was not asked`);
        break;
      default:
        // Only the router says that a thread ended: a worker posting it would drop another thread's calls.
        if ((message as MainThreadMessage).kind === MessageKind.ThreadGone) ignoreStray(link.name, message);
        else this.#receiveHere(message, link.worker.threadId);
    }
  }

  /** Whether the thread of `link` does work of pool job `job`: runs it, or serves a call or stream the job made. */
  #works(link: Link, job: number): boolean {
    if (link.jobs.has(job)) return true;
    for (const request of link.requests.values()) if (request.job === job) return true;
    return false;
  }

  /** Passes a routed message on to the thread it is for, or receives it here when that is the main thread. */
  #forward(from: Link, message: ToMain & { readonly to: number }): void {
    if (message.to === thisThread().id) this.#receiveHere(message, from.worker.threadId);
    else this.send(message.to, message);
  }

  /** A request ended: the link forgets it, and lets its thread go once nothing waits on it. */
  #forget(link: Link, key: number): void {
    if (link.requests.delete(key) && link.requests.size === 0) this.hold(link.worker.threadId, -1);
  }

  /**
   * Ends a request with an error, for its caller: a call rejects, a stream errors. `later` answers
   * from a later tick, as any reply would come, so a caller never sees it synchronously.
   */
  #answer(request: Request, error: unknown, later: boolean): void {
    const serialized = serializeError(error, thisThread().name);
    const reply =
      request.kind === MessageKind.Call
        ? ({ kind: MessageKind.CallResult, to: request.from, callId: request.callId, ok: false, error: serialized } as const)
        : ({ kind: MessageKind.StreamEvent, to: request.from, from: request.to, callId: request.callId, event: 'error', error: serialized } as const);
    if (later) queueMicrotask(() => this.send(request.from, reply));
    else this.send(request.from, reply);
  }

  #undeliverable(threadId: number, message: ToWorker, error: unknown): void {
    if (message.kind !== MessageKind.Call && message.kind !== MessageKind.Subscribe) return;
    const link = this.#links.get(threadId);
    if (link !== undefined) this.#forget(link, callKey(message.from, message.callId));
    this.#answer(message, error, false);
  }
}

/** What a caller waits for from a thread: a call's result, or a stream's events. */
type Request = CallMessage | SubscribeMessage;
