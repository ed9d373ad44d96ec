import { parentPort, workerData } from 'node:worker_threads';
import { runtime } from '../runtime';
import { passValue } from '../shareability/boundary';
import { BatchedPort } from './batched-port';
import { compileInline } from './inline-function';
import { MessageKind, unknownMessage, type FromWorker, type RunTaskMessage, type ToWorker, type WorkerStart } from './protocol';
import { decodeValue, encodeValue } from './serialize';
import { deserializeError, serializeError } from './serialize-error';
import { findTask } from './task';

/**
 * The program of a worker thread: it runs the children the pool sends it, several at once when
 * they await, each with its own abort signal, and reports how each one settled.
 */
const start = workerData as WorkerStart;
runtime.threadName = start.name;
const port = parentPort as NonNullable<typeof parentPort>;
const outbox = new BatchedPort<FromWorker>(port, (message, error) => {
  // A result that cannot be cloned is reported as that child's failure, never dropped.
  if (message.kind === MessageKind.TaskSettled) {
    port.postMessage([{ kind: MessageKind.TaskSettled, id: message.id, ok: false, error: serializeError(error, runtime.threadName) }]);
  }
});
const running = new Map<number, AbortController>();

port.on('message', (batch: readonly ToWorker[]) => {
  for (const message of batch) {
    switch (message.kind) {
      case MessageKind.RunTask:
        void runTask(message);
        break;
      case MessageKind.CancelTask:
        running.get(message.id)?.abort(deserializeError(message.reason));
        break;
      default:
        unknownMessage(message);
    }
  }
});

async function runTask(message: RunTaskMessage): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const fn = message.spec.kind === 'task' ? findTask(message.spec.location) : compileInline(message.spec.source);
    const args = message.args.map(decodeValue);
    const name = message.spec.kind === 'task' ? message.spec.location.name : message.spec.name;
    const value = await runtime.ambient.run({ signal: controller.signal }, () => fn(...args));
    const passed = encodeValue(passValue(value, `child ${name}`, 'result'));
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: true, value: passed });
  } catch (error) {
    outbox.send({ kind: MessageKind.TaskSettled, id: message.id, ok: false, error: serializeError(error, runtime.threadName) });
  } finally {
    running.delete(message.id);
  }
}
