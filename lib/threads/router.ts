import type { Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { dropCallsFrom, receiveMonitorMessage } from '../monitor/monitor-messages';
import { runtime } from '../runtime';
import { callKey } from '../deadlock/monitor-call';
import { BatchedPort, receiveBatch } from './batched-port';
import { MessageKind, type CallMessage, type SubscribeMessage, type ToMain, type ToWorker } from './protocol';
import { serializeError } from './serialize-error';
import type { Transport } from './transport';

/**
 * The main thread's switchboard: it holds a link to every worker, forwards monitor calls and
 * their results between threads, and keeps track of every call in flight to each thread, so that
 * when a thread dies each of those calls is answered with a {@link MonitorClosedError}, and a call
 * to a thread that is gone is answered at once. No call is ever left waiting on a dead thread.
 *
 * It also keeps a worker referenced (holding the process open) exactly while someone waits on it.
 */
interface Link {
  readonly worker: Worker;
  readonly name: string;
  readonly port: BatchedPort<ToWorker>;
  /** Messages for the main thread itself that are not calls: the pool's or the actors'. */
  readonly onMessage: (message: ToMain) => void;
  /** Calls in flight to this thread, by {@link callKey}. */
  readonly calls: Map<number, CallMessage>;
  /** Streams of this thread's monitors that are live, by {@link callKey} of their subscription. */
  readonly streams: Map<number, SubscribeMessage>;
  /** How many waits hold this worker: it is referenced while any does. */
  holds: number;
}

export class Router implements Transport {
  readonly #links = new Map<number, Link>();
  /** Threads that ended, and why, to answer late calls. */
  readonly #gone = new Map<number, string>();

  attach(worker: Worker, name: string, onMessage: (message: ToMain) => void): void {
    const link: Link = {
      worker,
      name,
      port: new BatchedPort<ToWorker>(worker, (message, error) => this.#undeliverable(worker.threadId, message, error)),
      onMessage,
      calls: new Map(),
      streams: new Map(),
      holds: 0,
    };
    this.#links.set(worker.threadId, link);
    worker.unref();
    worker.on('message', (batch: readonly ToMain[]) => {
      receiveBatch(batch, (message) => this.#receive(link, message));
    });
  }

  /** A worker ended: every call in flight to it is answered, and later ones will be at once. */
  detach(threadId: number, why: string): void {
    const link = this.#links.get(threadId);
    this.#links.delete(threadId);
    this.#gone.set(threadId, why);
    // Subscriptions the dead thread made end at their producers; its calls waiting elsewhere are dropped.
    for (const other of this.#links.values()) {
      for (const [key, stream] of other.streams) if (stream.from === threadId) this.#endStream(other, key, true);
      for (const [key, call] of other.calls) {
        if (call.from !== threadId) continue;
        other.calls.delete(key);
        if (other.calls.size === 0) this.hold(other.worker.threadId, -1);
      }
      other.port.send({ kind: MessageKind.ThreadGone, thread: threadId, why });
    }
    dropCallsFrom(threadId, why);
    for (const [key, stop] of runtime.servedStreams) {
      if (Math.floor(key / 2 ** 32) === threadId) {
        runtime.servedStreams.delete(key);
        stop();
      }
    }
    if (link === undefined) return;
    for (const call of link.calls.values()) this.#closed(call, why);
    link.calls.clear();
    for (const stream of link.streams.values()) this.#streamClosed(stream, why);
    link.streams.clear();
  }

  /** The threads attached (alive) now. */
  threads(): number[] {
    return [...this.#links.keys()];
  }

  /** Whether a thread is attached (alive) now. */
  has(threadId: number): boolean {
    return this.#links.has(threadId);
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
    if (to === runtime.threadId) {
      this.#deliverHere(message as ToMain);
      return;
    }
    const link = this.#links.get(to);
    if (message.kind === MessageKind.Call) {
      if (link === undefined) {
        this.#closed(message, this.#gone.get(to) ?? 'its thread is gone');
        return;
      }
      link.calls.set(callKey(message.from, message.callId), message);
      if (link.calls.size === 1) this.hold(to, 1);
    }
    if (message.kind === MessageKind.Subscribe) {
      if (link === undefined) {
        this.#streamClosed(message, this.#gone.get(to) ?? 'its thread is gone');
        return;
      }
      link.streams.set(callKey(message.from, message.callId), message);
      // A live stream holds its producer's thread, as a call in flight does.
      if (link.streams.size === 1) this.hold(to, 1);
    }
    if (message.kind === MessageKind.Unsubscribe && link !== undefined) this.#endStream(link, callKey(message.from, message.callId), false);
    link?.port.send(message as ToWorker, transfer);
  }

  #receive(link: Link, message: ToMain): void {
    switch (message.kind) {
      case MessageKind.Call:
        this.send(message.to, message);
        break;
      case MessageKind.CallResult:
        if (link.calls.delete(callKey(message.to, message.callId)) && link.calls.size === 0) this.hold(link.worker.threadId, -1);
        this.send(message.to, message);
        break;
      case MessageKind.StreamEvent:
        if (message.event !== 'next') this.#endStream(link, callKey(message.to, message.callId), false);
        this.send(message.to, message);
        break;
      case MessageKind.Subscribe:
      case MessageKind.Unsubscribe:
      case MessageKind.DeadlockProbe:
      case MessageKind.DeadlockVerdict:
        this.send(message.to, message);
        break;
      case MessageKind.JobBlocked:
        runtime.pool?.blocked(message.job, message.delta);
        break;
      case MessageKind.MonitorsDumped:
        runtime.dumpRequests.get(message.requestId)?.(message.monitors);
        break;
      default:
        link.onMessage(message);
    }
  }

  #deliverHere(message: ToMain): void {
    if (!receiveMonitorMessage(message)) throw new Error(`safethread: the main thread cannot route ${message.kind} to itself`);
  }

  /** Answers a call whose monitor's thread is gone. */
  #closed(call: CallMessage, why: string): void {
    const error = serializeError(new MonitorClosedError(call.label, why), runtime.threadName);
    // Answered from a later tick, as any reply would be, so a caller never sees it synchronously.
    queueMicrotask(() => this.send(call.from, { kind: MessageKind.CallResult, to: call.from, callId: call.callId, ok: false, error }));
  }

  /** A stream ended (or its subscriber left): the link forgets it, and tells its producer when asked. */
  #endStream(link: Link, key: number, tellProducer: boolean): void {
    const stream = link.streams.get(key);
    if (stream === undefined) return;
    link.streams.delete(key);
    if (link.streams.size === 0) this.hold(link.worker.threadId, -1);
    if (tellProducer) link.port.send({ kind: MessageKind.Unsubscribe, to: stream.to, from: stream.from, callId: stream.callId });
  }

  /** Ends a stream whose monitor's thread is gone, for its subscriber. */
  #streamClosed(stream: SubscribeMessage, why: string): void {
    const error = serializeError(new MonitorClosedError(stream.label, why), runtime.threadName);
    queueMicrotask(() => this.send(stream.from, { kind: MessageKind.StreamEvent, to: stream.from, from: stream.to, callId: stream.callId, event: 'error', error }));
  }

  #undeliverable(threadId: number, message: ToWorker, error: unknown): void {
    if (message.kind === MessageKind.Subscribe) {
      const link = this.#links.get(threadId);
      if (link !== undefined) this.#endStream(link, callKey(message.from, message.callId), false);
      this.send(message.from, { kind: MessageKind.StreamEvent, to: message.from, from: threadId, callId: message.callId, event: 'error', error: serializeError(error, runtime.threadName) });
    }
    if (message.kind === MessageKind.Call) {
      const link = this.#links.get(threadId);
      if (link?.calls.delete(callKey(message.from, message.callId)) === true && link.calls.size === 0) this.hold(threadId, -1);
      this.send(message.from, { kind: MessageKind.CallResult, to: message.from, callId: message.callId, ok: false, error: serializeError(error, runtime.threadName) });
    }
  }
}
