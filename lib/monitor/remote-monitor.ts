import type { TransferListItem } from 'node:worker_threads';
import { findMonitorClass } from '../decorators/monitor';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { runtime } from '../runtime';
import { passArguments } from '../shareability/boundary';
import { MessageKind, type CallMessage, type CallResultMessage, type MonitorMarker, type StreamEventMessage } from '../threads/protocol';
import { CancellationToken } from '../cancellation/cancellation-token';
import { decode, encode, encodeAll } from '../threads/serialize';
import { appendCallerFrames, deserializeError } from '../threads/serialize-error';
import { transport } from '../threads/transport';
import { callKey, type MonitorCall } from '../deadlock/monitor-call';
import { deadlockDetector, tracksWaits } from '../deadlock/wait-tracking';
import type { MonitorEndpoint, Subscribable } from './monitor-endpoint';
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
      runtime.pendingCalls.set(message.callId, { resolve, reject, caller });
      // A turn making the call waits for it: an edge of the wait-for graph, until the reply. Probes
      // coming back from the other thread must find the turn by its id.
      if (caller !== undefined && tracksWaits()) deadlockDetector().list(caller);
      caller?.waitFor(callKey(runtime.threadId, message.callId), { thread: this.marker.thread, monitor: this.label, method: (this.plan.methods.get(method) as MethodMark).displayName });
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
    const { streamAsObservable } = require('../rxjs/observable-bridge') as typeof import('../rxjs/observable-bridge');
    const stream = streamAsObservable((observer) => {
      let prepared: Prepared;
      try {
        prepared = this.#message(method, args);
      } catch (error) {
        observer.error(error);
        return () => undefined;
      }
      const { message, transfer } = prepared;
      runtime.pendingStreams.set(message.callId, observer);
      transport().send(this.marker.thread, { kind: MessageKind.Subscribe, ...message }, transfer);
      return () => {
        // Still live: the owner must stop producing.
        if (runtime.pendingStreams.delete(message.callId)) {
          transport().send(this.marker.thread, { kind: MessageKind.Unsubscribe, to: this.marker.thread, from: runtime.threadId, callId: message.callId });
        }
      };
    });
    return unawaitable(stream, this.#where(method));
  }

  /** What a call or a subscription sends: checked, encoded arguments, and the caller's token, job and chain. */
  #message(method: string, args: unknown[]): Prepared {
    passArguments(this.#where(method), args);
    const callId = runtime.nextCallId++;
    const transfer: TransferListItem[] = [];
    const encoded = encodeAll(args, transfer);
    // The call runs under the caller's token on the owner thread, which sees a cancel through shared memory.
    const context = runtime.ambient.getStore();
    const token = context?.token ?? CancellationToken.none;
    const encodedToken = token.shared.memory === undefined ? undefined : encode(token, transfer);
    // Work a turn left running after it ended (a timer, a stream) still carries it: it waits for nothing.
    const caller = context?.call?.state === 'running' ? context.call : undefined;
    return {
      message: {
        to: this.marker.thread,
        from: runtime.threadId,
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
  const observer = runtime.pendingStreams.get(message.callId);
  if (observer === undefined) return;
  switch (message.event) {
    case 'next': {
      let value: unknown;
      try {
        value = decode(message.value);
      } catch (error) {
        // The producer must stop too: nobody here will take its values any more.
        runtime.pendingStreams.delete(message.callId);
        transport().send(message.from, { kind: MessageKind.Unsubscribe, to: message.from, from: runtime.threadId, callId: message.callId });
        observer.error(error);
        return;
      }
      observer.next(value);
      break;
    }
    case 'error':
      runtime.pendingStreams.delete(message.callId);
      observer.error(deserializeError(message.error));
      break;
    case 'complete':
      runtime.pendingStreams.delete(message.callId);
      observer.complete();
  }
}

/** Settles a call of this thread when its reply arrives. */
export function settleCall(message: CallResultMessage): void {
  const pending = runtime.pendingCalls.get(message.callId);
  if (pending === undefined) return;
  runtime.pendingCalls.delete(message.callId);
  pending.caller?.stopWaitingFor(callKey(runtime.threadId, message.callId));
  if (message.ok) {
    try {
      pending.resolve(decode(message.value));
    } catch (error) {
      pending.reject(error);
    }
  } else {
    pending.reject(deserializeError(message.error));
  }
}

/** The reference for a marker that arrived: the local one for a monitor of this thread, else one remote reference per monitor. */
export function reviveReference(marker: MonitorMarker): object {
  if (marker.thread === runtime.threadId) {
    return runtime.exportedMonitors.get(marker.id)?.reference ?? createReference(closedEndpoint(marker));
  }
  const key = `${marker.thread}:${marker.id}`;
  const known = runtime.remoteReferences.get(key)?.deref();
  if (known !== undefined) return known;
  const reference = createReference(new RemoteMonitor(marker));
  runtime.remoteReferences.set(key, new WeakRef(reference));
  return reference;
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
  const closed = () => new MonitorClosedError(marker.label, `it no longer exists on ${runtime.threadName}`);
  const plan = planFor(marker);
  return {
    label: marker.label,
    plan,
    call: () => Promise.reject(closed()),
    stream: (method) => {
      const { streamAsObservable } = require('../rxjs/observable-bridge') as typeof import('../rxjs/observable-bridge');
      const stream = streamAsObservable((observer) => {
        observer.error(closed());
        return () => undefined;
      });
      return unawaitable(stream, `${plan.className}.${plan.methods.get(method)?.displayName ?? method}`);
    },
  };
}
