import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { receiveMonitorMessage } from '../monitor/monitor-messages';
import { describeMonitors } from '../deadlock/monitor-dump';
import { runtime } from '../runtime';
import { passValue } from '../shareability/boundary';
import { BatchedPort, receiveBatch } from './batched-port';
import { childRunner } from './child-runner';
import { compileInline } from './inline-function';
import type { PoolClient } from './pool-client';
import { MessageKind, unknownMessage, type RunTaskMessage, type ToMain, type ToWorker, type WorkerStart } from './protocol';
import type { CancellationToken } from '../cancellation/cancellation-token';
import { decode, decodeAll, encode } from './serialize';
import { serializeError } from './serialize-error';
import { constructActor, settleSpawn } from './spawn';
import { findTask } from './task';

/**
 * The program of a worker thread. It runs the children the pool sends it (several at once when
 * they await, each with its own abort signal), serves calls to the monitors that live here,
 * constructs its monitor when it is an actor, and reports how each of these ended.
 */
const start = workerData as WorkerStart;
// Several actors of one class would share a name; their thread id tells them apart in messages.
runtime.threadName = start.name.startsWith('actor ') ? `${start.name} (thread ${threadId})` : start.name;
runtime.threadId = threadId;
runtime.poolOptions = { deadlockDetection: start.deadlockDetection };
runtime.typescriptLoader = start.typescriptLoader;
runtime.monitorIds = new Int32Array(start.monitorIds);
const port = parentPort as NonNullable<typeof parentPort>;
const outbox = new BatchedPort<ToMain>(port, (message, error) => {
  // A result that cannot be sent is reported as a failure of what it answers, never dropped.
  const failure = { ok: false as const, error: serializeError(error, runtime.threadName) };
  if (message.kind === MessageKind.TaskSettled) port.postMessage([{ ...message, ...failure, value: undefined }]);
  if (message.kind === MessageKind.CallResult) port.postMessage([{ ...message, ...failure, value: undefined }]);
});
runtime.transport = { send: (_to, message, transfer) => outbox.send(message as ToMain, transfer) };

port.on('message', (batch: readonly ToWorker[]) =>
  receiveBatch(batch, (message) => {
    if (receiveMonitorMessage(message)) return;
    switch (message.kind) {
      case MessageKind.RunTask:
        void runTask(message);
        break;
      case MessageKind.ChildSettled:
        (childRunner() as PoolClient).settle(message);
        break;
      case MessageKind.Construct:
        constructActor(message);
        break;
      case MessageKind.Spawned:
        settleSpawn(message);
        break;
      case MessageKind.DumpMonitors:
        outbox.send({ kind: MessageKind.MonitorsDumped, requestId: message.requestId, monitors: describeMonitors() });
        break;
      default:
        unknownMessage(message);
    }
  }),
);

async function runTask(message: RunTaskMessage): Promise<void> {
  const name = message.spec.kind === 'task' ? message.spec.location.name : message.spec.name;
  try {
    const fn = message.spec.kind === 'task' ? await findTask(message.spec.location) : compileInline(message.spec.source);
    const args = decodeAll(message.args);
    const token = decode(message.token) as CancellationToken;
    // A child cancelled after it was sent but before it got here never starts.
    token.throwIfCancelled();
    const value = await runtime.ambient.run({ token, job: message.id }, () => fn(...args));
    const transfer: TransferListItem[] = [];
    const encoded = encode(passValue(value, `child ${name}`, 'result'), transfer);
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: true, value: encoded }, transfer);
  } catch (error) {
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: false, error: serializeError(error, runtime.threadName) });
  }
}
