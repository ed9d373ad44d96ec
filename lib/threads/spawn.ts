import type { TransferListItem } from 'node:worker_threads';
import { DefinitionError } from '../errors/definition-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { findMonitorClass, monitorClasses } from '../monitor/class-registry';
import { slot, thisThread } from '../runtime';
import { passArguments } from '../shareability/boundary';
import { actorThreads, endActor } from './actor-threads';
import { ignoreStray } from './batched-port';
import { orphanChildrenOf } from './child-runner';
import { configuration } from './pool-options';
import { startWorker } from './start-worker';
import { loadingModule } from './loading-module';
import { warnTopLevelStart } from './top-level-start-warning';
import { MessageKind, type ClassLocation, type ConstructMessage, type Encoded, type SpawnMessage, type SpawnedMessage } from './protocol';
import { settleOutcome } from './outcome';
import { decodeAll, encode, encodeAll } from './serialize';
import { serializeError } from './serialize-error';
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
  const plan = typeof monitorClass === 'function' ? monitorClasses().planOf(monitorClass) : undefined;
  if (plan === undefined || plan.location === undefined) {
    throw new DefinitionError('ERR_NOT_A_MONITOR', 'spawn(Class, ...args)', 'class', typeof monitorClass === 'function' ? `class ${monitorClass.name}` : typeof monitorClass);
  }
  const passed = passArguments(`spawn ${plan.className}`, [...args]);
  if (loadingModule() !== undefined) warnTopLevelStart('an actor (spawn)');
  return (await requestActor(plan.location, passed)) as InstanceType<C> & AsyncDisposable;
}

/** Asks for an actor: the main thread makes it; a worker asks the main thread. `owner` is the thread that may close it. */
function requestActor(location: ClassLocation, args: readonly unknown[], owner = thisThread().id): Promise<object> {
  const requestId = spawnRequests().newId();
  const transfer: TransferListItem[] = [];
  const encoded = encodeAll(args, transfer);
  return new Promise((resolve, reject) => {
    spawnRequests().wait(requestId, { resolve, reject });
    if (thisThread().id === 0) startActor(requestId, location, encoded, transfer, owner);
    else transport().send(0, { kind: MessageKind.Spawn, requestId, location, args: encoded }, transfer);
  });
}

/** Main thread: starts an actor's thread and asks it to construct its monitor. */
function startActor(requestId: number, location: ClassLocation, args: readonly Encoded[], transfer: TransferListItem[], owner: number): void {
  const name = `actor ${location.className}`;
  const worker = startWorker(name, configuration().options.resourceLimits);
  const threadId = worker.threadId;
  actorThreads().add(threadId, worker, owner, requestId);
  router().attach(worker, name);
  let crash: Error | undefined;
  worker.on('error', (error) => (crash = error));
  worker.on('exit', (code) => {
    const how = crash !== undefined ? `uncaught ${crash.name}: ${crash.message}` : `it exited with code ${code}`;
    actorThreads().remove(threadId);
    if (router().has(threadId)) router().detach(threadId, `its thread crashed: ${how}`);
    orphanChildrenOf(threadId, `the actor thread of the branch that added it ended: ${how}`);
    spawnRequests().take(requestId)?.reject(new ThreadCrashError(`spawn ${location.className}`, how, crash === undefined ? undefined : { cause: crash }));
  });
  // The actor's thread holds the process open until its monitor is constructed.
  router().hold(threadId, 1);
  router().send(threadId, { kind: MessageKind.Construct, requestId, location, args }, transfer);
}

/**
 * Main thread: an actor constructed its monitor (or failed to): settle the request it answers. An
 * actor whose constructor failed has nothing to serve, and its thread ends. Only the actor started
 * for that request answers it, once: another thread's code posting a spawned message settles nothing.
 */
export function actorConstructed(actorThread: number, message: SpawnedMessage): void {
  if (!actorThreads().constructed(actorThread, message.requestId)) {
    ignoreStray(`thread ${actorThread}`, message, `a spawned message for spawn request ${String(message.requestId)}, which it was not started for`);
    return;
  }
  router().hold(actorThread, -1);
  settleSpawn(message);
  if (!message.ok) void endActor(actorThread, 'its constructor failed');
}

/** Main thread: a worker asks for an actor; its reference (or why it failed) goes back to it. */
export function serveSpawn(fromThread: number, message: SpawnMessage): void {
  const reply = (outcome: SpawnedMessage) => {
    router().send(fromThread, outcome);
  };
  let args: unknown[];
  try {
    args = decodeAll(message.args);
  } catch (error) {
    reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, thisThread().name) });
    return;
  }
  requestActor(message.location, args, fromThread).then(
    (reference) => reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: true, value: encode(reference, []) }),
    (error: unknown) => reply({ kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, thisThread().name) }),
  );
}

/** Settles a spawn of this thread with the reference (or the error) that arrived. */
export function settleSpawn(message: SpawnedMessage): void {
  const pending = spawnRequests().take(message.requestId);
  if (pending === undefined) return;
  settleOutcome(message, pending);
}

/** Spawns of this thread waiting for their monitor to be constructed, by request id. */
class SpawnRequests {
  readonly #waiting = new Map<number, Pending>();
  #nextId = 1;

  newId(): number {
    return this.#nextId++;
  }

  wait(requestId: number, pending: Pending): void {
    this.#waiting.set(requestId, pending);
  }

  /** The spawn an answer settles, out of the table; undefined when it is not waiting (any more). */
  take(requestId: number): Pending | undefined {
    const pending = this.#waiting.get(requestId);
    this.#waiting.delete(requestId);
    return pending;
  }
}

interface Pending {
  resolve(reference: object): void;
  reject(error: unknown): void;
}

const spawnRequests = slot('spawn requests', () => new SpawnRequests());

/** Actor thread: constructs the monitor it was started for and reports its reference. */
export function constructActor(message: ConstructMessage): void {
  let outcome: SpawnedMessage;
  try {
    const plan = findMonitorClass(message.location);
    const Decorated = plan.decorated as new (...args: unknown[]) => object;
    const reference = new Decorated(...decodeAll(message.args));
    outcome = { kind: MessageKind.Spawned, requestId: message.requestId, ok: true, value: encode(reference, []) };
  } catch (error) {
    outcome = { kind: MessageKind.Spawned, requestId: message.requestId, ok: false, error: serializeError(error, thisThread().name) };
  }
  transport().send(0, outcome);
}
