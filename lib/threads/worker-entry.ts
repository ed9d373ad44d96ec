import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { liveMonitors } from '../monitor/live-monitors';
import { receiveMonitorMessage } from '../monitor/monitor-messages';
import { installObservables } from '../observables';
import { nameThisThread, thisThread } from '../runtime';
import { passValue } from '../shareability/boundary';
import { BatchedPort, receiveBatch } from './batched-port';
import { childrenAhead } from './children-ahead';
import { childRunner } from './child-runner';
import { compileInline } from './inline-function';
import { configuration } from './pool-options';
import type { PoolClient } from './pool-client';
import { MessageKind, unknownMessage, type RunTaskMessage, type ToMain, type ToWorker, type WorkerStart } from './protocol';
import { tokenFromMarker } from '../cancellation/cancellation-token';
import { runInContext } from '../cancellation/current-token';
import type { ObservableBridge } from '../types';
import { decodeAll, encode } from './serialize';
import { serializeError } from './serialize-error';
import { findTask } from './task';
import { receivedTasks } from './task-numbers';
import { useTransport } from './transport';
import { preferLoader } from './typescript-loader';
import { codecs } from './codec-registry';
// The modules whose values cross threads by codec register it when they load. Tokens and monitor
// references come with every child and call; the others load when a value of theirs first arrives
// (or is made here), so that a thread that never sees one starts without their code.
import '../cancellation/cancellation-token';
import '../monitor/exported-monitors';

/**
 * The program of a worker thread. It runs the children the pool sends it (several at once when
 * they await, each with its own abort signal), serves calls to the monitors that live here,
 * constructs its monitor when it is an actor, and reports how each of these ended.
 */
const start = workerData as WorkerStart;
// Several actors of one class would share a name; their thread id tells them apart in messages.
nameThisThread(threadId, start.name.startsWith('actor ') ? `${start.name} (thread ${threadId})` : start.name);
configuration().adoptWorkerStart(start);
preferLoader(start.typescriptLoader);
liveMonitors().shareIds(start.monitorIds);
codecs().loadOnArrival('channel', () => require('../channel/channel'));
codecs().loadOnArrival('lock', () => require('../sync/lock-codec'));
codecs().loadOnArrival('shared-dict', () => require('../shared-dict/shared-dict'));
codecs().loadOnArrival('shareable', () => require('../decorators/shareable'));
const port = parentPort as NonNullable<typeof parentPort>;
const outbox = new BatchedPort<ToMain>(port, (message, error) => {
  // A result that cannot be sent is reported as a failure of what it answers, never dropped.
  const failure = { ok: false as const, error: serializeError(error, thisThread().name) };
  if (message.kind === MessageKind.TaskSettled) port.postMessage([{ ...message, ...failure, value: undefined }]);
  if (message.kind === MessageKind.CallResult) port.postMessage([{ ...message, ...failure, value: undefined }]);
});
useTransport({ send: (_to, message, transfer) => outbox.send(message as ToMain, transfer) });
// The rxjs adapter, loaded (with rxjs) when an Observable is first made on this thread.
installObservables((): ObservableBridge => require('../rxjs/observable-bridge') as typeof import('../rxjs/observable-bridge'));

port.on('message', (batch: unknown) => receiveBatch<ToWorker>(batch, 'the main thread', receive));

/** Every message for this worker, by kind. */
function receive(message: ToWorker): void {
  switch (message.kind) {
    // Monitors' messages: handled alike on every thread (monitor/monitor-messages.ts).
    case MessageKind.Call:
    case MessageKind.Subscribe:
    case MessageKind.Unsubscribe:
    case MessageKind.CallResult:
    case MessageKind.StreamEvent:
    case MessageKind.DeadlockProbe:
    case MessageKind.DeadlockVerdict:
    case MessageKind.ThreadGone:
    case MessageKind.Release:
    case MessageKind.CloseMonitor:
      receiveMonitorMessage(message);
      break;
    // Monitors of this thread that other threads let go of or close.
    // Children: the pool's for this thread, and the ones this thread's branches asked for.
    case MessageKind.RunTask:
      // The task it brings in full is kept at once, even if the child is taken back before it runs (threads/task-numbers.ts).
      receivedTasks().learn(message);
      // Now, or behind the child it was sent ahead of (threads/children-ahead.ts).
      childrenAhead().receive(message, runTask);
      break;
    case MessageKind.ChildSettled:
      (childRunner() as PoolClient).settle(message);
      break;
    // Actors: this thread's own monitor, and the ones its code spawned.
    case MessageKind.Construct:
      actors().constructActor(message);
      break;
    case MessageKind.Spawned:
      actors().settleSpawn(message);
      break;
    // `dumpMonitors()` on the main thread asks each thread.
    case MessageKind.DumpMonitors:
      outbox.send({ kind: MessageKind.MonitorsDumped, requestId: message.requestId, monitors: (require('../deadlock/monitor-dump') as typeof import('../deadlock/monitor-dump')).describeMonitors() });
      break;
    default: {
      const unreachable: never = message;
      unknownMessage(unreachable);
    }
  }
}

/**
 * Actors' code, loaded when this thread becomes an actor or its code spawns one (which loaded it
 * already): a pool thread that only runs children never needs it.
 */
function actors(): typeof import('./spawn') {
  return require('./spawn') as typeof import('./spawn');
}

async function runTask(message: RunTaskMessage): Promise<void> {
  let name = `${message.id}`;
  try {
    const spec = receivedTasks().spec(message);
    name = spec.kind === 'task' ? spec.location.name : spec.name;
    const fn = spec.kind === 'task' ? await findTask(spec.location) : compileInline(spec.source);
    const args = decodeAll(message.args);
    const token = tokenFromMarker(message.token);
    // A child cancelled after it was sent but before it got here never starts.
    token.throwIfCancelled();
    const value = await runInContext({ token, job: message.id }, () => fn(...args));
    const transfer: TransferListItem[] = [];
    const encoded = encode(passValue(value, `child ${name}`, 'result'), transfer);
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: true, value: encoded }, transfer);
  } catch (error) {
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: false, error: serializeError(error, thisThread().name) });
  }
  // The child sent ahead behind this one starts now, with no round trip to the main thread.
  childrenAhead().settled(message.id, runTask);
}
