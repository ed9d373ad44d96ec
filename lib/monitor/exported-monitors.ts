import type { TransferListItem } from 'node:worker_threads';
import { CancelledError } from '../errors/cancelled-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { slot, thisThread } from '../runtime';
import { CancellationToken } from '../cancellation/cancellation-token';
import { decode, encode } from '../threads/serialize';
import { codecs } from '../threads/codec-registry';
import { transfer } from '../shareability/transfer';
import { serializeError } from '../threads/serialize-error';
import { MessageKind, type CallMessage, type CloseMonitorMessage, type Encoded, type ReleaseMessage, type MonitorMarker, type StreamEventMessage, type SubscribeMessage, type UnsubscribeMessage } from '../threads/protocol';
import { transport } from '../threads/transport';
import { ignoreStray } from '../threads/batched-port';
import { callKey, threadOfCall } from '../deadlock/monitor-call';
import { exportTable } from './export-table';
import { LocalMonitor, type CallOrigin } from './local-monitor';
import { endpointOf } from './reference';
import type { MonitorEndpoint } from './monitor-endpoint';
import { RemoteMonitor, reviveReference } from './remote-monitor';

/**
 * The owner's side of monitors used from other threads: a reference that leaves this thread
 * exports its monitor under its id, and calls that arrive by message run through the very same
 * `LocalMonitor.call` as local ones, so they queue, check and fail exactly alike.
 */

/**
 * The marker that carries a monitor reference (by its endpoint) to another thread. Each marker
 * counts at its owner until the thread that revives it lets it go (see export-table.ts): one of
 * this thread's monitors counts here (and a worker that starts to export tells the main thread,
 * which then keeps it); a marker passed on from another thread's monitor is counted at its owner,
 * told before the marker can arrive anywhere (messages from one thread keep their order through
 * the main thread).
 */
export function exportReference(endpoint: MonitorEndpoint): MonitorMarker {
  if (endpoint instanceof RemoteMonitor) {
    const { thread, id } = endpoint.marker;
    transport().send(thread, { kind: MessageKind.Release, to: thread, from: thisThread().id, monitor: id, change: 'passed', markers: 1 });
    return endpoint.marker;
  }
  const monitor = endpoint as LocalMonitor;
  exportTable().add(monitor);
  const { plan } = monitor;
  return {
    kind: 'monitor',
    thread: thisThread().id,
    id: monitor.id,
    label: monitor.label,
    className: plan.className,
    location: plan.location,
    methods: [...plan.methods.values()].map((mark) => [mark.key, mark.displayName, mark.stream] as const),
  };
}

// A reference crosses threads as the id of its monitor (exported here) and what its class looks like.
codecs().register({
  kind: 'monitor',
  encode(value) {
    const endpoint = endpointOf(value);
    return endpoint === undefined ? undefined : exportReference(endpoint);
  },
  decode: (marker) => reviveReference(marker),
});

/**
 * What a holder did with markers of a monitor of this thread: revived, let go of, or passed on
 * (see export-table.ts, which counts each for its holder, so that `from` moves only its own). A
 * message for another thread goes on to it. `from` is the sender's own: the main thread passes on
 * no message of a worker's in another thread's name (threads/router.ts).
 */
export function receiveRelease(message: ReleaseMessage): void {
  if (message.to !== thisThread().id) return transport().send(message.to, message);
  const table = exportTable();
  switch (message.change) {
    case 'revived':
      table.revived(message.monitor, message.from, message.markers);
      break;
    case 'released':
      table.release(message.monitor, message.from, message.markers);
      break;
    case 'passed':
      table.passed(message.monitor, message.from, message.markers);
      break;
    default:
      ignoreStray(`thread ${String(message.from)}`, message, `a release message whose change is ${JSON.stringify(String(message.change)).slice(0, 40)}`);
  }
}

/**
 * `close(ref)` from another thread: closes a monitor of this thread, when the thread asking holds
 * a reference to it (any other asks for what it was never given, and is ignored), or passes the
 * message on to its thread.
 */
export function serveCloseMonitor(message: CloseMonitorMessage): void {
  if (message.to !== thisThread().id) return transport().send(message.to, message);
  const table = exportTable();
  const monitor = table.find(message.monitor);
  if (monitor === undefined) return;
  if (!table.holds(message.monitor, message.from)) {
    ignoreStray(`thread ${String(message.from)}`, message, `a close-monitor for ${monitor.label}, which it holds no reference to`);
    return;
  }
  // Closing takes it out of the table; a worker that exports nothing any more tells the main thread (export-table.ts).
  monitor.close(message.why);
}

/** Thread `thread` ended: every reference it held to this thread's monitors is let go for it. */
export function releaseHeldBy(thread: number): void {
  exportTable().holderGone(thread);
}

/** Runs a call that arrived from another thread and sends back how it ended. */
export function serveCall(message: CallMessage): void {
  const fail = (error: unknown) =>
    transport().send(message.from, { kind: MessageKind.CallResult, to: message.from, callId: message.callId, ok: false, error: serializeError(error, thisThread().name) });
  const reply = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
    if (!outcome.ok) return fail(outcome.error);
    const transfer: TransferListItem[] = [];
    try {
      transport().send(message.from, { kind: MessageKind.CallResult, to: message.from, callId: message.callId, ok: true, value: encode(outcome.value, transfer) }, transfer);
    } catch (error) {
      // A result that cannot travel fails the call; it must never take the thread down.
      fail(error);
    }
  };
  const arrived = unpack(message);
  if (arrived instanceof Error) {
    fail(arrived);
    return;
  }
  arrived.monitor.serve(message.method, arrived.args, arrived.origin).then(
    (value) => reply({ ok: true, value }),
    (error: unknown) => reply({ ok: false, error }),
  );
}

/**
 * Subscribes, for a subscriber on another thread, to a stream method of a monitor here: each
 * value, the error or the completion goes back as a message, until either side ends it.
 */
export function serveSubscribe(message: SubscribeMessage): void {
  const key = callKey(message.from, message.callId);
  const send = (event: StreamEventMessage, transfer?: TransferListItem[]) => transport().send(message.from, event, transfer);
  let ended = false;
  let subscription: { unsubscribe(): void } | undefined;
  const end = () => {
    ended = true;
    servedStreams().forget(key);
  };
  const fail = (error: unknown) => {
    end();
    send({ kind: MessageKind.StreamEvent, to: message.from, from: thisThread().id, callId: message.callId, event: 'error', error: serializeError(error, thisThread().name) });
  };
  const arrived = unpack(message);
  if (arrived instanceof Error) {
    fail(arrived);
    return;
  }
  subscription = arrived.monitor.stream(message.method, arrived.args, arrived.origin).subscribe({
    next: (value) => {
      if (ended) return;
      const transfer: TransferListItem[] = [];
      let encoded: Encoded;
      try {
        encoded = encode(value, transfer);
      } catch (error) {
        // A value that cannot travel ends the stream with why, at both ends.
        fail(error);
        subscription?.unsubscribe();
        return;
      }
      send({ kind: MessageKind.StreamEvent, to: message.from, from: thisThread().id, callId: message.callId, event: 'next', value: encoded }, transfer);
    },
    error: (error) => {
      if (!ended) fail(error);
    },
    complete: () => {
      if (ended) return;
      end();
      send({ kind: MessageKind.StreamEvent, to: message.from, from: thisThread().id, callId: message.callId, event: 'complete' });
    },
  });
  if (ended) subscription.unsubscribe();
  else {
    const live = subscription;
    servedStreams().add(key, () => live.unsubscribe());
  }
}

/** The subscriber ended its subscription: the producer's teardown runs here. */
export function serveUnsubscribe(message: UnsubscribeMessage): void {
  const key = callKey(message.from, message.callId);
  servedStreams().stop(key);
}

/** A thread ended: the streams it subscribed to here stop at their producers. */
export function stopStreamsOf(thread: number): void {
  servedStreams().stopAllFrom(thread);
}

/** Streams of this thread's monitors that subscribers on other threads receive, by caller key; each entry ends one. */
class ServedStreams {
  readonly #stops = new Map<number, () => void>();

  add(key: number, stop: () => void): void {
    this.#stops.set(key, stop);
  }

  /** A stream that ended by itself. */
  forget(key: number): void {
    this.#stops.delete(key);
  }

  /** Ends a stream whose subscriber unsubscribed. */
  stop(key: number): void {
    const stop = this.#stops.get(key);
    this.#stops.delete(key);
    stop?.();
  }

  /** Ends every stream that `thread` subscribed to. */
  stopAllFrom(thread: number): void {
    for (const [key, stop] of this.#stops) {
      if (threadOfCall(key) !== thread) continue;
      this.#stops.delete(key);
      stop();
    }
  }
}

const servedStreams = slot('served streams', () => new ServedStreams());

/** What a call or a subscription from another thread needs: its monitor, its arguments and who makes it. */
function unpack(message: CallMessage | SubscribeMessage): { monitor: LocalMonitor; args: unknown[]; origin: CallOrigin } | Error {
  const monitor = exportTable().find(message.monitor);
  if (monitor === undefined) return new MonitorClosedError(message.label, `it no longer exists on ${thisThread().name}`);
  let args: unknown[];
  let token: CancellationToken | undefined;
  try {
    // A moved buffer arrives as a buffer; it goes on as transfer(), exactly as a local call's would.
    args = message.args.map((encoded) => ('moved' in encoded ? transfer(encoded.moved) : decode(encoded)));
    token = message.token === undefined ? undefined : (decode(message.token) as CancellationToken);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  // A call whose caller gave up while it travelled never runs.
  if (token?.cancelled) return new CancelledError(token.reason, `${message.label}.${message.method} (on its way to ${thisThread().name})`);
  // The call runs under the caller's token and job; its chain says which turns wait for it.
  const context = token === undefined && message.job === undefined ? undefined : { token: token ?? CancellationToken.none, job: message.job };
  return { monitor, args, origin: { id: callKey(message.from, message.callId), context, caller: undefined, chain: message.chain, callerMonitor: message.callerMonitor, remote: true } };
}
