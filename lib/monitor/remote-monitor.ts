import type { TransferListItem } from 'node:worker_threads';
import { findMonitorClass } from '../decorators/monitor';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { runtime } from '../runtime';
import { passArguments } from '../shareability/boundary';
import { MessageKind, type CallResultMessage, type MonitorMarker } from '../threads/protocol';
import { CancellationToken } from '../cancellation/cancellation-token';
import { decode, encode, encodeAll } from '../threads/serialize';
import { appendCallerFrames, deserializeError } from '../threads/serialize-error';
import { transport } from '../threads/transport';
import { callKey, type MonitorCall } from '../deadlock/monitor-call';
import type { MonitorEndpoint } from './monitor-endpoint';
import type { MethodMark, MonitorPlan } from './monitor-plan';
import { createReference } from './reference';

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
    passArguments(this.#where(method), args);
    const callId = runtime.nextCallId++;
    const transfer: TransferListItem[] = [];
    const encoded = encodeAll(args, transfer);
    // The call runs under the caller's token on the owner thread, which sees a cancel through shared memory.
    const context = runtime.ambient.getStore();
    const token = context?.token ?? CancellationToken.none;
    const encodedToken = token.shared.memory === undefined ? undefined : encode(token, transfer);
    // A turn making the call waits for it: an edge of the wait-for graph, until the reply.
    const caller = context?.call;
    caller?.outgoing.set(callKey(runtime.threadId, callId), { thread: this.marker.thread, monitor: this.label, method: (this.plan.methods.get(method) as MethodMark).displayName });
    return new Promise((resolve, reject) => {
      runtime.pendingCalls.set(callId, { resolve, reject, caller });
      transport().send(
        this.marker.thread,
        {
          kind: MessageKind.Call,
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
        },
        transfer,
      );
    });
  }
}

/** Settles a call of this thread when its reply arrives. */
export function settleCall(message: CallResultMessage): void {
  const pending = runtime.pendingCalls.get(message.callId);
  if (pending === undefined) return;
  runtime.pendingCalls.delete(message.callId);
  pending.caller?.outgoing.delete(callKey(runtime.threadId, message.callId));
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
  const methods = new Map(marker.methods.map(([key, displayName]) => [key, { key, displayName, original: unreachable }] as const));
  const decorated = class {};
  Object.defineProperty(decorated, 'name', { value: marker.className });
  return { className: marker.className, location: marker.location, methods, reentrant: false, original: decorated, decorated };
}

function unreachable(): never {
  throw new Error('safethread: a remote monitor method runs on its own thread');
}

function closedEndpoint(marker: MonitorMarker): MonitorEndpoint {
  return {
    label: marker.label,
    plan: planFor(marker),
    call: () => Promise.reject(new MonitorClosedError(marker.label, `it no longer exists on ${runtime.threadName}`)),
  };
}
