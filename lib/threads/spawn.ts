import type { TransferListItem } from 'node:worker_threads';
import { findMonitorClass } from '../decorators/monitor';
import { DefinitionError } from '../errors/definition-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { LocalMonitor } from '../monitor/local-monitor';
import { RemoteMonitor } from '../monitor/remote-monitor';
import { runtime } from '../runtime';
import { passArguments } from '../shareability/boundary';
import { childRequests } from './child-requests';
import { startWorker } from './start-worker';
import { warnTopLevelStart } from './top-level-start-warning';
import { MessageKind, unknownMessage, type ClassLocation, type ConstructMessage, type Encoded, type SpawnedMessage, type ToMain } from './protocol';
import { decode, decodeAll, encode, encodeAll } from './serialize';
import { deserializeError, serializeError } from './serialize-error';
import { router, transport } from './transport';

/**
 * Actors: a monitor constructed on a worker thread of its own, which lives until it is closed.
 *
 * The main thread starts every actor thread (a worker asks it to), so that all threads stay
 * reachable through the main thread's router. An actor thread holds the process open only while
 * a call to it is in flight.
 */

/**
 * Constructs a `@Monitor` on a new worker thread of its own and resolves to its reference. The
 * arguments must be shareable; the class's module is loaded on that thread. End it with
 * {@link close}, or with `await using`.
 *
 * @example
 * ```ts
 * await using counter = await spawn(Counter, 10);
 * await counter.increment(); // runs on the actor's thread
 * ```
 */
export async function spawn<C extends abstract new (...args: never[]) => object>(monitorClass: C, ...args: ConstructorParameters<C>): Promise<InstanceType<C> & AsyncDisposable> {
  const plan = typeof monitorClass === 'function' ? runtime.monitorPlans.get(monitorClass) : undefined;
  if (plan === undefined || plan.location === undefined) {
    throw new DefinitionError('ERR_NOT_A_MONITOR', 'spawn(Class, ...args)', 'class', typeof monitorClass === 'function' ? `class ${monitorClass.name}` : typeof monitorClass);
  }
  const passed = passArguments(`spawn ${plan.className}`, [...args]);
  if (runtime.loadingModule !== undefined) warnTopLevelStart('an actor (spawn)');
  return (await requestActor(plan.location, passed)) as InstanceType<C> & AsyncDisposable;
}

/**
 * Closes a monitor: an actor's thread ends; a monitor of this thread stops taking calls. Calls
 * still waiting and every later call reject with `MonitorClosedError`. A reference's
 * `Symbol.asyncDispose` does the same, so `await using` closes it at the end of the block.
 *
 * @example
 * ```ts
 * const log = await spawn(AuditLog);
 * try { await log.write('hello'); } finally { await close(log); }
 * ```
 */
export async function close(reference: object): Promise<void> {
  const endpoint = runtime.references.get(reference);
  if (endpoint === undefined) throw new DefinitionError('ERR_NOT_A_MONITOR', 'close(reference)', 'reference', reference === null ? 'null' : typeof reference);
  if (endpoint instanceof LocalMonitor) {
    endpoint.close('it was closed');
    runtime.exportedMonitors.delete(endpoint.id);
    return;
  }
  const thread = (endpoint as RemoteMonitor).marker.thread;
  if (runtime.threadId === 0) await endActor(thread, 'it was closed');
  else transport().send(0, { kind: MessageKind.CloseActor, thread });
}

/** Asks for an actor: the main thread makes it; a worker asks the main thread. */
function requestActor(location: ClassLocation, args: readonly unknown[]): Promise<object> {
  const requestId = runtime.nextSpawnRequest++;
  const transfer: TransferListItem[] = [];
  const encoded = encodeAll(args, transfer);
  return new Promise((resolve, reject) => {
    runtime.spawnRequests.set(requestId, { resolve, reject });
    if (runtime.threadId === 0) startActor(requestId, location, encoded, transfer);
    else transport().send(0, { kind: MessageKind.Spawn, requestId, location, args: encoded }, transfer);
  });
}

/** Main thread: starts an actor's thread and asks it to construct its monitor. */
function startActor(requestId: number, location: ClassLocation, args: readonly Encoded[], transfer: TransferListItem[]): void {
  const name = `actor ${location.className}`;
  const worker = startWorker(name, runtime.poolOptions.resourceLimits);
  const threadId = worker.threadId;
  runtime.actors.set(threadId, worker);
  router().attach(worker, name, (message) => serveSpawnMessage(threadId, message));
  let crash: Error | undefined;
  worker.on('error', (error) => (crash = error));
  worker.on('exit', (code) => {
    const how = crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`;
    runtime.actors.delete(threadId);
    if (router().has(threadId)) router().detach(threadId, `its thread crashed: ${how}`);
    childRequests().orphan(threadId, `the actor thread of the branch that added it ended: ${how}`);
    const pending = runtime.spawnRequests.get(requestId);
    runtime.spawnRequests.delete(requestId);
    pending?.reject(new ThreadCrashError(`spawn ${location.className}`, how, crash === undefined ? undefined : { cause: crash }));
  });
  // The actor's thread holds the process open until its monitor is constructed.
  router().hold(threadId, 1);
  router().send(threadId, { kind: MessageKind.Construct, requestId, location, args }, transfer);
}

/** Main thread: messages about actors, from any worker. */
export function serveSpawnMessage(fromThread: number, message: ToMain): void {
  switch (message.kind) {
    case MessageKind.Spawned:
      // The actor constructed its monitor (or failed to): settle the request it answers. An actor
      // whose constructor failed has nothing to serve, and its thread ends.
      router().hold(fromThread, -1);
      settleSpawn(message);
      if (!message.ok) void endActor(fromThread, 'its constructor failed');
      break;
    case MessageKind.Spawn: {
      const reply = (outcome: SpawnedMessage) => {
        router().send(fromThread, outcome);
      };
      let args: unknown[];
      try {
        args = decodeAll(message.args);
      } catch (error) {
        reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, runtime.threadName) });
        break;
      }
      requestActor(message.location, args).then(
        (reference) => reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: true, value: encode(reference, []) }),
        (error: unknown) => reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, runtime.threadName) }),
      );
      break;
    }
    case MessageKind.CloseActor:
      void endActor(message.thread, 'it was closed');
      break;
    case MessageKind.Hosting:
      break;
    case MessageKind.RunChild:
    case MessageKind.TerminateChild:
      childRequests().serve(fromThread, message);
      break;
    default:
      unknownMessage(message);
  }
}

/** Settles a spawn of this thread with the reference (or the error) that arrived. */
export function settleSpawn(message: SpawnedMessage): void {
  const pending = runtime.spawnRequests.get(message.requestId);
  if (pending === undefined) return;
  runtime.spawnRequests.delete(message.requestId);
  if (!message.ok) {
    pending.reject(deserializeError(message.error));
    return;
  }
  try {
    pending.resolve(decode(message.value) as object);
  } catch (error) {
    pending.reject(error);
  }
}

/** Actor thread: constructs the monitor it was started for and reports its reference. */
export function constructActor(message: ConstructMessage): void {
  let outcome: SpawnedMessage;
  try {
    const plan = findMonitorClass(message.location);
    const Decorated = plan.decorated as new (...args: unknown[]) => object;
    const reference = new Decorated(...decodeAll(message.args));
    outcome = { kind: MessageKind.Spawned, requestId: message.requestId, ok: true, value: encode(reference, []) };
  } catch (error) {
    outcome = { kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, runtime.threadName) };
  }
  transport().send(0, outcome);
}

async function endActor(threadId: number, why: string): Promise<void> {
  const worker = runtime.actors.get(threadId);
  if (worker === undefined) return;
  runtime.actors.delete(threadId);
  router().detach(threadId, why);
  await worker.terminate();
}

/** Ends every actor (main thread), as part of `shutdown()`. */
export async function closeAllActors(): Promise<void> {
  await Promise.all([...runtime.actors.keys()].map((threadId) => endActor(threadId, 'safethread was shut down')));
}
