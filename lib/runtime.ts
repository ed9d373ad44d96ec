import { AsyncLocalStorage } from 'node:async_hooks';
import type { Worker } from 'node:worker_threads';
import type { MethodMark, MonitorPlan } from './monitor/monitor-plan';
import type { MonitorEndpoint } from './monitor/monitor-endpoint';
import type { ShareablePlan } from './decorators/shareable';
import type { TaskLocation } from './threads/task';
import type { ErrorClasses } from './threads/error-class-location';
import type { TypeScriptLoaderName } from './threads/typescript-loader';
import type { PoolOptions } from './threads/configure';
import type { ChildRunner } from './threads/child-runner';
import type { ChildRequests } from './threads/child-requests';
import type { Transport } from './threads/transport';
import type { LocalMonitor } from './monitor/local-monitor';
import type { PendingCall } from './monitor/remote-monitor';
import type { StreamObserver } from './monitor/monitor-endpoint';
import type { CancellationToken } from './cancellation/cancellation-token';
import type { DeadlockDetector } from './deadlock/detector';
import type { MonitorCall } from './deadlock/monitor-call';
import type { MonitorEvent } from './deadlock/wait-tracking';
import type { MonitorState } from './deadlock/monitor-dump';

/** What runs now: its cancellation token, and the pool job it belongs to on a worker. */
export interface AmbientContext {
  readonly token: CancellationToken;
  readonly job?: number;
  /** The monitor call whose turn runs now, when one does: the calls it makes are its waits. */
  readonly call?: MonitorCall;
}

/**
 * All mutable state of safethread on one thread, in one object.
 *
 * Every thread (and every jest module registry) loads its own copy of this module and so gets
 * its own runtime; nothing else in `lib/` keeps state at module level. That is what lets two
 * runtimes sit side by side without interfering.
 */
export class Runtime {
  /** Objects already proven deeply frozen and shareable: frozen values cannot change, so the proof holds forever. */
  readonly verifiedShareable = new WeakSet<object>();
  /** Verified values made of plain data only (no references, no @shareable instances), with their size in properties. */
  readonly plainDataSizes = new WeakMap<object, number>();
  /** Large plain values already serialized for sending, so that N sends serialize once. */
  readonly serializedValues = new WeakMap<object, { readonly bytes: SharedArrayBuffer; readonly length: number }>();
  /** Monitor classes, under both the user's class and the decorated class that replaces it. */
  readonly monitorPlans = new WeakMap<Function, MonitorPlan>();
  /** Functions installed by `@monitorMethod`, with what the decorator learned. */
  readonly methodMarks = new WeakMap<Function, MethodMark>();
  /** Monitor references made on this thread, and the endpoint each one calls. */
  readonly references = new WeakMap<object, MonitorEndpoint>();
  /** The real instances behind local monitors: they never leave their monitor. */
  readonly monitorInstances = new WeakSet<object>();
  /** `@shareable` classes, under both the user's class and the decorated class. */
  readonly shareablePlans = new WeakMap<Function, ShareablePlan>();
  /** Markers made by `transfer(buffer)`, and whether their buffer was already moved. */
  readonly transfers = new WeakMap<object, { readonly buffer: ArrayBuffer; used: boolean }>();
  /** Objects that protect themselves (tokens, channels) and so may cross threads as they are. */
  readonly selfProtecting = new WeakSet<object>();
  /** The core (a monitor reference) and capacity behind each channel handle on this thread. */
  readonly channelCores = new WeakMap<object, { readonly core: object; readonly capacity: number }>();
  /** Classes whose instances all protect themselves, so a parameter declared as one is fine. */
  readonly selfProtectingClasses = new WeakSet<Function>();
  /**
   * The process's monitor counter, in memory every thread shares (workers get it when they
   * start), so that `Counter#3` names one monitor in the whole process.
   */
  monitorIds = new Int32Array(new SharedArrayBuffer(4));

  /** The id of a new monitor, unique in the process. */
  nextMonitorId(): number {
    return Atomics.add(this.monitorIds, 0, 1) + 1;
  }

  /** Functions registered with `task(fn)`, by `file#name`, and where each was registered. */
  readonly tasks = new Map<string, Function>();
  readonly taskLocations = new WeakMap<Function, TaskLocation>();
  /**
   * How many tasks, and how many decorated classes, each file has registered so far. A module
   * registers in the same order on every thread, so the position finds a task or class even when a
   * compiler renamed it on one thread and not on another (esbuild turns `square` into `square2`).
   */
  readonly taskOrdinals = new Map<string, number>();
  readonly classOrdinals = new Map<string, number>();

  /**
   * The TypeScript loader the main thread runs under when workers do not inherit it (the `ts-node`
   * command registers in-process); a worker that must load a `.ts` module registers it first.
   */
  typescriptLoader: TypeScriptLoaderName | undefined = undefined;
  /** The user's module this thread is loading for a task or class, while it loads: a branch or spawn started then is a top-level side effect of that module. */
  loadingModule: string | undefined = undefined;
  /** Modules already warned about for starting a branch or spawn at top level: one warning per module. */
  readonly topLevelStartWarned = new Set<string>();

  /** How messages name this thread: `main`, or `thread N`. */
  threadName = 'main';
  /** This thread's `worker_threads.threadId` (0 on the main thread). */
  threadId = 0;
  /** The running child's, call's or branch body's cancellation token (and pool job), carried through awaits. */
  readonly ambient = new AsyncLocalStorage<AmbientContext>();
  /** Cancellation tokens known on this thread, by id, so that one token has one object here. */
  readonly tokensById = new Map<string, WeakRef<CancellationToken>>();
  /** Forgets a token's id once the token is collected. */
  readonly #forgetToken = new FinalizationRegistry<string>((id) => {
    if (this.tokensById.get(id)?.deref() === undefined) this.tokensById.delete(id);
  });

  rememberToken(token: CancellationToken): void {
    const { id } = token.shared;
    this.tokensById.set(id, new WeakRef(token));
    this.#forgetToken.register(token, id);
  }
  nextTokenId = 1;
  /** Cancellation reasons already encoded for shared memory. */
  readonly encodedReasons = new WeakMap<object, Uint8Array>();
  /** `CancellationToken.none`, made once per thread. */
  noneToken: CancellationToken | undefined = undefined;
  /** Runs branch children: the pool on the main thread, a client of it on a worker. Made on first use. */
  pool: ChildRunner | undefined = undefined;
  /** Children that workers' branches asked the main thread's pool for (main thread only). */
  childRequests: ChildRequests | undefined = undefined;
  /** How this thread sends messages to other threads; unset until it first needs to. */
  transport: Transport | undefined = undefined;

  /** `@Monitor` and `@shareable` classes by `file#name`, so that another thread's references and values find them. */
  readonly monitorClassesByKey = new Map<string, MonitorPlan>();
  readonly shareableClassesByKey = new Map<string, ShareablePlan>();
  /** Where user error classes are exported, and the ones known here, so that errors arrive as their class; made on first use. */
  errorClasses: ErrorClasses | undefined = undefined;
  /** Local monitors whose references went to other threads, by id: their calls arrive by message. */
  readonly exportedMonitors = new Map<number, LocalMonitor>();
  /** References to monitors on other threads, by `thread:id`, so that one monitor has one reference here. */
  readonly remoteReferences = new Map<string, WeakRef<object>>();
  /** Streams of this thread's monitors that subscribers on other threads receive, by caller key; each value ends one. */
  readonly servedStreams = new Map<number, () => void>();
  /** Subscriptions made from this thread to streams on other threads, by subscription id, until they end. */
  readonly pendingStreams = new Map<number, StreamObserver>();
  /** Calls made from this thread to monitors on other threads, until they settle. */
  readonly pendingCalls = new Map<number, PendingCall>();
  nextCallId = 1;
  /** Spawned actors' threads, by thread id (main thread only). */
  readonly actors = new Map<number, Worker>();
  /** Spawns waiting for their monitor to be constructed, by request id. */
  readonly spawnRequests = new Map<number, { resolve(reference: object): void; reject(error: unknown): void }>();
  nextSpawnRequest = 1;
  /** What `configure()` set, for the pool and the threads it starts. */
  poolOptions: PoolOptions = {};

  /** This thread's part of the wait-for graph, made on first use. */
  deadlocks: DeadlockDetector | undefined = undefined;
  /** Every monitor made on this thread that is still alive, for `dumpMonitors()`. */
  readonly liveMonitors = new Set<WeakRef<LocalMonitor>>();
  readonly #forgetMonitor = new FinalizationRegistry<WeakRef<LocalMonitor>>((ref) => this.liveMonitors.delete(ref));

  rememberMonitor(monitor: LocalMonitor): void {
    const ref = new WeakRef(monitor);
    this.liveMonitors.add(ref);
    this.#forgetMonitor.register(monitor, ref);
  }
  /** Who listens to `monitorEvents()` on this thread; events are made only while someone does. */
  readonly monitorEventListeners = new Set<(event: MonitorEvent) => void>();
  /** `dumpMonitors()` calls waiting for workers' answers (main thread only), by request id. */
  readonly dumpRequests = new Map<number, (monitors: readonly MonitorState[]) => void>();
  nextDumpRequest = 1;
}

/** This thread's runtime. */
export const runtime = new Runtime();
