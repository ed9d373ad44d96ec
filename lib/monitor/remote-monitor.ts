import type { TransferListItem } from 'node:worker_threads';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { observables } from '../observables';
import { slot, thisThread } from '../runtime';
import { ambientContext } from '../cancellation/current-token';
import { passArguments } from '../shareability/boundary';
import { MessageKind, type CallMessage, type CallResultMessage, type MonitorMarker, type StreamEventMessage } from '../threads/protocol';
import { CancellationToken } from '../cancellation/cancellation-token';
import { decode, encode, encodeAll } from '../threads/serialize';
import { appendCallerFrames, deserializeError } from '../threads/serialize-error';
import { settleOutcome } from '../threads/outcome';
import { endActor } from '../threads/actor-threads';
import { transport, transportStarted } from '../threads/transport';
import { callKey, callOf, newCallNumber, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
import { findMonitorClass } from './class-registry';
import { exportTable } from './export-table';
import type { MonitorEndpoint, StreamObserver, Subscribable } from './monitor-endpoint';
import type { MethodMark, MonitorPlan } from './monitor-plan';
import { createReference } from './reference';
import { unawaitable } from './unawaitable-stream';

/**
 * The caller's side of a monitor that lives on another thread: its reference looks and behaves
 * like a local one, and each call becomes a message to the owner thread, whose reply settles it.
 * Arguments are checked here as well as there, so a refused value fails at the call, with the
 * caller's stack.
 */

/** A call in flight to another thread. */
export interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The turn of this thread that made the call and waits for it, if one did. */
  readonly caller: MonitorCall | undefined;
}

/** Calls and subscriptions made from this thread to monitors on other threads, by call number, until they settle or end. */
class CallTable {
  readonly #calls = new Map<number, PendingCall>();
  readonly #streams = new Map<number, StreamObserver>();

  addCall(callId: number, pending: PendingCall): void {
    this.#calls.set(callId, pending);
  }

  /** The call a reply settles, out of the table; undefined when it is not waiting (any more). */
  takeCall(callId: number): PendingCall | undefined {
    const pending = this.#calls.get(callId);
    this.#calls.delete(callId);
    return pending;
  }

  addStream(callId: number, observer: StreamObserver): void {
    this.#streams.set(callId, observer);
  }

  stream(callId: number): StreamObserver | undefined {
    return this.#streams.get(callId);
  }

  /** Ends a subscription on this side; true when it was still live. */
  endStream(callId: number): boolean {
    return this.#streams.delete(callId);
  }
}

const callTable = slot('calls to other threads', () => new CallTable());

/**
 * References to monitors on other threads, by `thread:id`, held weakly, so that one monitor has
 * one reference here. Each counts the markers it was revived from; when it is collected, its
 * owner thread is told that many markers came back (see export-table.ts), and the entry goes.
 */
class RemoteReferences {
  readonly #byKey = new Map<string, Held>();
  readonly #collected = new FinalizationRegistry<Held>((held) => {
    if (this.#byKey.get(held.key) === held) this.#byKey.delete(held.key);
    // No link any more (after shutdown()): the owner is gone, or keeps the export, which is safe.
    if (!transportStarted()) return;
    try {
      transport().send(held.thread, { kind: MessageKind.Release, to: held.thread, from: thisThread().id, monitor: held.monitor, change: 'released', markers: held.markers });
    } catch {
      // A cleanup callback must never throw (it would crash the thread); an unsent release only keeps the export.
    }
  });

  /** The live reference for a marker that arrived, counting the marker; undefined when there is none. */
  revive(key: string): object | undefined {
    const held = this.#byKey.get(key);
    const reference = held?.reference.deref();
    if (held === undefined || reference === undefined) return undefined;
    held.markers++;
    return reference;
  }

  add(key: string, marker: MonitorMarker, reference: object): void {
    const held: Held = { key, thread: marker.thread, monitor: marker.id, markers: 1, reference: new WeakRef(reference) };
    this.#byKey.set(key, held);
    this.#collected.register(reference, held);
  }

  /** How many references to other threads' monitors this thread holds. */
  get size(): number {
    return this.#byKey.size;
  }
}

/** A reference to another thread's monitor, and how many markers it stands for. */
interface Held {
  readonly key: string;
  readonly thread: number;
  readonly monitor: number;
  markers: number;
  readonly reference: WeakRef<object>;
}

const remoteReferences = slot('remote references', () => new RemoteReferences());

export class RemoteMonitor implements MonitorEndpoint {
  readonly label: string;
  readonly plan: MonitorPlan;
  /** `Class.method` per method, made once: calls are hot. */
  readonly #labels = new Map<string, string>();

  #where(method: string): string {
    let where = this.#labels.get(method);
    if (where === undefined) {
      where = `${this.plan.className}.${(this.plan.methods.get(method) as MethodMark).displayName}`;
      this.#labels.set(method, where);
    }
    return where;
  }

  constructor(readonly marker: MonitorMarker) {
    this.label = marker.label;
    this.plan = planFor(marker);
  }

  async call(method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.#send(method, args);
    } catch (error) {
      // Captured only on failure, and here, after the await: the stack then holds the awaiting callers.
      appendCallerFrames(error, new Error().stack);
      throw error;
    }
  }

  #send(method: string, args: unknown[]): Promise<unknown> {
    const { message, transfer, caller } = this.#message(method, args);
    return new Promise((resolve, reject) => {
      callTable().addCall(message.callId, { resolve, reject, caller });
      // A turn making the call waits for it: an edge of the wait-for graph, until the reply. Probes
      // coming back from the other thread must find the turn by its id.
      if (caller !== undefined && tracksWaits()) deadlockDetector().list(caller);
      caller?.waitFor(callKey(thisThread().id, message.callId), { thread: this.marker.thread, monitor: this.label, method: (this.plan.methods.get(method) as MethodMark).displayName });
      transport().send(this.marker.thread, { kind: MessageKind.Call, ...message }, transfer);
    });
  }

  /**
   * A stream method's Observable: each subscription sends a subscribe message, receives the
   * stream's events until it ends, and unsubscribing tells the owner thread, whose producer's
   * teardown then runs. Arguments are checked at each subscription, when they are sent. The
   * Observable refuses to be awaited (see {@link unawaitable}).
   */
  stream(method: string, args: unknown[]): Subscribable {
    const stream = observables('a stream monitor method').streamAsObservable((observer) => {
      let prepared: Prepared;
      try {
        prepared = this.#message(method, args);
      } catch (error) {
        observer.error(error);
        return () => undefined;
      }
      const { message, transfer } = prepared;
      callTable().addStream(message.callId, observer);
      transport().send(this.marker.thread, { kind: MessageKind.Subscribe, ...message }, transfer);
      return () => {
        // Still live: the owner must stop producing.
        if (callTable().endStream(message.callId)) {
          transport().send(this.marker.thread, { kind: MessageKind.Unsubscribe, to: this.marker.thread, from: thisThread().id, callId: message.callId });
        }
      };
    });
    return unawaitable(stream, this.#where(method));
  }

  /**
   * Closing a monitor of another thread closes it there, and ends its thread if that is an
   * actor's: the main thread ends it, a worker asks the main thread. Calls sent after it reject.
   */
  async close(why: string): Promise<void> {
    const { thread, id } = this.marker;
    transport().send(thread, { kind: MessageKind.CloseMonitor, to: thread, from: thisThread().id, monitor: id, why });
    if (thisThread().id === 0) await endActor(thread, why);
    else transport().send(0, { kind: MessageKind.CloseActor, thread });
  }

  /** What a call or a subscription sends: checked, encoded arguments, and the caller's token, job and chain. */
  #message(method: string, args: unknown[]): Prepared {
    passArguments(this.#where(method), args);
    const callId = newCallNumber();
    const transfer: TransferListItem[] = [];
    const encoded = encodeAll(args, transfer);
    // The call runs under the caller's token on the owner thread, which sees a cancel through shared memory.
    const context = ambientContext();
    const token = context?.token ?? CancellationToken.none;
    const encodedToken = token.shared.memory === undefined ? undefined : encode(token, transfer);
    // Work a turn left running after it ended (a timer, a stream) still carries it: it waits for nothing.
    const call = callOf(context);
    const caller = call?.state === 'running' ? call : undefined;
    return {
      message: {
        to: this.marker.thread,
        from: thisThread().id,
        callId,
        monitor: this.marker.id,
        label: this.label,
        method,
        args: encoded,
        token: encodedToken,
        job: context?.job,
        chain: caller?.chain,
        callerMonitor: caller?.monitor.label,
      },
      transfer,
      caller,
    };
  }
}

interface Prepared {
  readonly message: Omit<CallMessage, 'kind'>;
  readonly transfer: TransferListItem[];
  readonly caller: MonitorCall | undefined;
}

/** Passes a stream's event to its subscriber on this thread; an error or the completion ends it. */
export function settleStreamEvent(message: StreamEventMessage): void {
  const observer = callTable().stream(message.callId);
  if (observer === undefined) return;
  switch (message.event) {
    case 'next': {
      let value: unknown;
      try {
        value = decode(message.value);
      } catch (error) {
        // The producer must stop too: nobody here will take its values any more.
        callTable().endStream(message.callId);
        transport().send(message.from, { kind: MessageKind.Unsubscribe, to: message.from, from: thisThread().id, callId: message.callId });
        observer.error(error);
        return;
      }
      observer.next(value);
      break;
    }
    case 'error':
      callTable().endStream(message.callId);
      observer.error(deserializeError(message.error));
      break;
    case 'complete':
      callTable().endStream(message.callId);
      observer.complete();
  }
}

/** Settles a call of this thread when its reply arrives. */
export function settleCall(message: CallResultMessage): void {
  const pending = callTable().takeCall(message.callId);
  if (pending === undefined) return;
  pending.caller?.stopWaitingFor(callKey(thisThread().id, message.callId));
  settleOutcome(message, pending);
}

/**
 * The reference for a marker that arrived: the local one for a monitor of this thread, else one
 * remote reference per monitor. The owner is told that this thread holds the marker now, so that
 * it counts the marker for this thread: what this thread may let go of or close, and what is let
 * go of for it if it ends (see export-table.ts).
 */
export function reviveReference(marker: MonitorMarker): object {
  if (marker.thread === thisThread().id) {
    const reference = exportTable().find(marker.id)?.reference ?? createReference(closedEndpoint(marker));
    // The marker came home: it no longer counts as out.
    exportTable().cameHome(marker.id);
    return reference;
  }
  const key = `${marker.thread}:${marker.id}`;
  let reference = remoteReferences().revive(key);
  if (reference === undefined) {
    reference = createReference(new RemoteMonitor(marker));
    remoteReferences().add(key, marker, reference);
  }
  transport().send(marker.thread, { kind: MessageKind.Release, to: marker.thread, from: thisThread().id, monitor: marker.id, change: 'revived', markers: 1 });
  return reference;
}

/** How many references to other threads' monitors this thread holds (tests). */
export function remoteReferenceCount(): number {
  return remoteReferences().size;
}

/**
 * The plan of a monitor known from a marker: the class's own when this thread has (or can load)
 * it, so `instanceof` works; otherwise one made from the marker's method list.
 */
function planFor(marker: MonitorMarker): MonitorPlan {
  if (marker.location !== undefined) {
    try {
      return findMonitorClass(marker.location);
    } catch {
      // The reference still works without the class: only instanceof is lost.
    }
  }
  const methods = new Map(marker.methods.map(([key, displayName, stream]) => [key, { key, displayName, stream, original: unreachable }] as const));
  const decorated = class {};
  Object.defineProperty(decorated, 'name', { value: marker.className });
  return { className: marker.className, location: marker.location, methods, reentrant: false, original: decorated, decorated };
}

function unreachable(): never {
  throw new Error('safethread: a remote monitor method runs on its own thread');
}

function closedEndpoint(marker: MonitorMarker): MonitorEndpoint {
  const closed = () => new MonitorClosedError(marker.label, `it no longer exists on ${thisThread().name}`);
  const plan = planFor(marker);
  return {
    label: marker.label,
    plan,
    call: () => Promise.reject(closed()),
    // It is gone already.
    close: () => undefined,
    stream: (method) => {
      const stream = observables('a stream monitor method').streamAsObservable((observer) => {
        observer.error(closed());
        return () => undefined;
      });
      return unawaitable(stream, `${plan.className}.${plan.methods.get(method)?.displayName ?? method}`);
    },
  };
}
