import type { DeadlockStep } from '../errors/deadlock-error';
import type { MonitorState, ProbePath, SerializedError, TaskLocation, TypeScriptLoaderName } from './wire-types';

/**
 * The messages between threads: kinds and shapes only, no logic.
 *
 * Workers talk to the main thread only; a message for another worker carries `to` and the main
 * thread forwards it. Messages travel in batches (arrays): everything sent in one tick goes as
 * one postMessage. Receivers dispatch with a `switch` over `kind` that fails loudly on a kind
 * they do not know.
 */
export const MessageKind = {
  /** main -> worker: run a child. */
  RunTask: 'run-task',
  /** worker -> main: a child finished, with its value or error. */
  TaskSettled: 'task-settled',
  /** worker -> main: a branch on the worker adds a child; the main thread's pool runs it. */
  RunChild: 'run-child',
  /** worker -> main: end the thread of such a child, whose grace ran out. */
  TerminateChild: 'terminate-child',
  /** main -> worker: such a child finished. */
  ChildSettled: 'child-settled',
  /** any -> any (routed): call a monitor method. */
  Call: 'call',
  /** any -> any (routed): how the call ended. */
  CallResult: 'call-result',
  /** worker -> main: this worker now serves monitors to other threads; keep it while the process runs. */
  Hosting: 'hosting',
  /** worker -> main: this worker serves no monitor to other threads any more; it may take children again, or retire. */
  HostingEnded: 'hosting-ended',
  /** any -> any (routed): a holder thread revived, let go of or passed on markers of a monitor exported by thread `to`. */
  Release: 'release',
  /** any -> any (routed): close this monitor of thread `to` (`close(ref)` from another thread). */
  CloseMonitor: 'close-monitor',
  /** worker -> main: spawn an actor for me. */
  Spawn: 'spawn',
  /** main -> actor worker: construct your monitor. */
  Construct: 'construct',
  /** actor worker -> main, and main -> worker: the spawned monitor's reference, or why it failed. */
  Spawned: 'spawned',
  /** any -> main: close a spawned actor. */
  CloseActor: 'close-actor',
  /** any -> any (routed): a deadlock probe walking the wait-for graph to a call on that thread. */
  DeadlockProbe: 'deadlock-probe',
  /** any -> any (routed): a probe found a cycle; reject this queued call of that thread. */
  DeadlockVerdict: 'deadlock-verdict',
  /** any -> any (routed): subscribe to a stream method of a monitor. */
  Subscribe: 'subscribe',
  /** any -> any (routed): a stream's value, error or completion, for its subscriber. */
  StreamEvent: 'stream-event',
  /** any -> any (routed): the subscriber is gone; end the stream at its producer. */
  Unsubscribe: 'unsubscribe',
  /** main -> every thread: a thread ended; drop the calls it made, which nobody will take. */
  ThreadGone: 'thread-gone',
  /** any worker -> main: a pool job starts or stops waiting on a channel of this thread. */
  JobBlocked: 'job-blocked',
  /** main -> worker: describe your monitors for `dumpMonitors()`. */
  DumpMonitors: 'dump-monitors',
  /** worker -> main: this thread's monitors. */
  MonitorsDumped: 'monitors-dumped',
} as const;

/** What a child runs: a registered task, found by module, or a self-contained function's source. */
export type TaskSpec =
  | { readonly kind: 'task'; readonly location: TaskLocation }
  | { readonly kind: 'inline'; readonly source: string; readonly name: string };

/** Where a class can be found on another thread: the module that defines it, and its key there. */
export interface ClassLocation {
  readonly file: string;
  readonly key: string;
  readonly className: string;
  /** Its position among the decorated classes of its file, which finds it where a compiler renamed it. */
  readonly ordinal: number;
}

/** A monitor reference as it travels. */
export interface MonitorMarker {
  readonly kind: 'monitor';
  readonly thread: number;
  readonly id: number;
  readonly label: string;
  readonly className: string;
  readonly location: ClassLocation | undefined;
  /** `[key, name in messages, whether it is a stream method]` of each monitor method. */
  readonly methods: readonly (readonly [string, string, boolean])[];
}

/** A `@shareable` instance as it travels: its class and its fields. */
export interface ShareableMarker {
  readonly kind: 'shareable';
  readonly location: ClassLocation;
  readonly fields: Encoded;
}

/** A cancellation token as it travels: its slot of shared memory, which every thread maps (cancellation/token-memory.ts). */
export interface TokenMarker {
  readonly kind: 'token';
  readonly id: string;
  readonly memory: TokenSlot | undefined;
  /** The memories of the tokens it is linked to, parent first. */
  readonly ancestors: readonly TokenSlot[];
}

/** Where a token's memory is: a slab of shared memory, and the byte offset of its slot. */
export interface TokenSlot {
  readonly buffer: SharedArrayBuffer;
  readonly offset: number;
}

/** A channel as it travels: its core, a monitor on the thread that made the channel. */
export interface ChannelMarker {
  readonly kind: 'channel';
  readonly core: MonitorMarker;
  readonly capacity: number;
  /** The shared memory of its values (channel/ring.ts). */
  readonly ring: SharedArrayBuffer;
}

/** A shared dictionary as it travels: its shared memory, which every thread maps. */
export interface SharedDictMarker {
  readonly kind: 'shared-dict';
  /** `thread:number`, the same on every thread: one handle per dictionary on each thread. */
  readonly id: string;
  readonly memory: SharedArrayBuffer;
}

/** A lock or semaphore as it travels: its core, a monitor on the thread that made it. */
export interface LockMarker {
  readonly kind: 'lock';
  readonly core: MonitorMarker;
  readonly permits: number;
  /** Which handle it revives as: a `Lock` or a `Semaphore`. */
  readonly shape: 'lock' | 'semaphore';
}

/** A value as it travels. */
export type Encoded =
  /** Plain data: structured clone carries it as it is. */
  | { readonly plain: unknown }
  /** Plain data serialized once and shared by every send (large values). */
  | { readonly bytes: SharedArrayBuffer; readonly length: number }
  /** A moved ArrayBuffer. */
  | { readonly moved: ArrayBuffer }
  /**
   * Data with references or `@shareable` instances at `specials[i].path` (set to null in `value`),
   * and the paths of its objects that have no prototype (structured clone gives every object one).
   */
  | { readonly value: unknown; readonly specials: readonly Special[]; readonly nullPrototypes?: readonly (readonly (string | number)[])[] };

export interface Special {
  readonly path: readonly (string | number)[];
  readonly marker: SpecialMarker;
}

/** What stands for a value that structured clone cannot carry; each kind has its codec (see codec-registry.ts). */
export type SpecialMarker = MonitorMarker | ShareableMarker | TokenMarker | ChannelMarker | SharedDictMarker | LockMarker;

export interface RunTaskMessage {
  readonly kind: typeof MessageKind.RunTask;
  readonly id: number;
  /** The task: in full, or the number of one this thread was sent before (threads/task-numbers.ts). */
  readonly spec: TaskSpec | number;
  /** The number the thread keeps the task under, when it comes in full for the first time. */
  readonly specNumber?: number;
  readonly args: readonly Encoded[];
  /** The child's token, which its thread watches through shared memory: always a token, so its marker alone. */
  readonly token: TokenMarker;
  /**
   * Set when the child is sent ahead: it starts once the child `after` settles on the thread, and
   * only if the thread wins its claim word `claim` first (the pool may take it back meanwhile).
   */
  readonly ahead?: { readonly after: number; readonly claim: number };
  /** The thread's claim words (see threads/children-ahead.ts), sent with its children until it has settled one. */
  readonly claims?: SharedArrayBuffer;
}

export type Outcome = { readonly ok: true; readonly value: Encoded } | { readonly ok: false; readonly error: SerializedError };

export type TaskSettledMessage = { readonly kind: typeof MessageKind.TaskSettled; readonly id: number } & Outcome;

export interface RunChildMessage {
  readonly kind: typeof MessageKind.RunChild;
  /** The id the worker gave the child. */
  readonly id: number;
  /** The pool job on that worker whose branch added the child, if any: it waits meanwhile. */
  readonly parent: number | undefined;
  readonly name: string;
  readonly spec: TaskSpec;
  readonly args: readonly Encoded[];
  readonly token: Encoded;
}

export interface TerminateChildMessage {
  readonly kind: typeof MessageKind.TerminateChild;
  readonly id: number;
  readonly why: string;
}

export type ChildSettledMessage = { readonly kind: typeof MessageKind.ChildSettled; readonly id: number } & Outcome;

export interface CallMessage {
  readonly kind: typeof MessageKind.Call;
  readonly to: number;
  readonly from: number;
  readonly callId: number;
  readonly monitor: number;
  /** `Class#id`, so that a thread that forwards the call can say which monitor closed. */
  readonly label: string;
  readonly method: string;
  readonly args: readonly Encoded[];
  /** The caller's token, when it has one that can be cancelled: the call runs under it. */
  readonly token: Encoded | undefined;
  /** The pool job making the call, if any: a branch the call runs counts as that job's children. */
  readonly job: number | undefined;
  /** Ids of the turns the call is made from, outermost first, when it is made from one (deadlock detection, reentrancy). */
  readonly chain: readonly number[] | undefined;
  /** The monitor of the turn making the call, as `Class#id`, when a turn makes it. */
  readonly callerMonitor: string | undefined;
}

export type CallResultMessage = { readonly kind: typeof MessageKind.CallResult; readonly to: number; readonly callId: number } & Outcome;

export interface HostingMessage {
  readonly kind: typeof MessageKind.Hosting;
}

export interface HostingEndedMessage {
  readonly kind: typeof MessageKind.HostingEnded;
}

/**
 * What holder `from` did with `markers` markers of monitor `monitor`, exported by thread `to`:
 * revived them (it holds them now), released them (its reference was collected), or passed new
 * ones on to another thread (see monitor/export-table.ts). A thread speaks for itself only.
 */
export interface ReleaseMessage {
  readonly kind: typeof MessageKind.Release;
  readonly to: number;
  readonly from: number;
  readonly monitor: number;
  readonly change: 'revived' | 'released' | 'passed';
  readonly markers: number;
}

/** Thread `from`, which holds a reference to it, closes monitor `monitor` of thread `to`; `why` becomes the `MonitorClosedError`'s reason. */
export interface CloseMonitorMessage {
  readonly kind: typeof MessageKind.CloseMonitor;
  readonly to: number;
  readonly from: number;
  readonly monitor: number;
  readonly why: string;
}

export interface SpawnMessage {
  readonly kind: typeof MessageKind.Spawn;
  readonly requestId: number;
  readonly location: ClassLocation;
  readonly args: readonly Encoded[];
}

export interface ConstructMessage {
  readonly kind: typeof MessageKind.Construct;
  readonly requestId: number;
  readonly location: ClassLocation;
  readonly args: readonly Encoded[];
}

export type SpawnedMessage = { readonly kind: typeof MessageKind.Spawned; readonly requestId: number } & Outcome;

export interface CloseActorMessage {
  readonly kind: typeof MessageKind.CloseActor;
  readonly thread: number;
}

/** A subscription to a stream method: like a call, but answered by stream events until it ends. */
export type SubscribeMessage = Omit<CallMessage, 'kind'> & { readonly kind: typeof MessageKind.Subscribe };

/** What a stream did, for the subscriber `to`, from the producer's thread `from`; `callId` is the subscription's. */
export type StreamEventMessage = { readonly kind: typeof MessageKind.StreamEvent; readonly to: number; readonly from: number; readonly callId: number } & (
  | { readonly event: 'next'; readonly value: Encoded }
  | { readonly event: 'error'; readonly error: SerializedError }
  | { readonly event: 'complete' }
);

/** The subscriber `from` ended its subscription `callId` to a stream on thread `to`. */
export interface UnsubscribeMessage {
  readonly kind: typeof MessageKind.Unsubscribe;
  readonly to: number;
  readonly from: number;
  readonly callId: number;
}

/** A deadlock probe travelling to the thread of call `call`. */
export interface DeadlockProbeMessage {
  readonly kind: typeof MessageKind.DeadlockProbe;
  readonly to: number;
  /** The thread sending it (which passes it on), not the probe's origin. */
  readonly from: number;
  readonly call: number;
  readonly path: ProbePath;
}

/** A probe found a cycle: reject call `call` on its thread, if it is still queued. */
export interface DeadlockVerdictMessage {
  readonly kind: typeof MessageKind.DeadlockVerdict;
  readonly to: number;
  /** The thread whose probe found the cycle. */
  readonly from: number;
  readonly call: number;
  readonly cycle: readonly DeadlockStep[];
}

export interface ThreadGoneMessage {
  readonly kind: typeof MessageKind.ThreadGone;
  readonly thread: number;
  readonly why: string;
}

export interface JobBlockedMessage {
  readonly kind: typeof MessageKind.JobBlocked;
  readonly job: number;
  readonly delta: 1 | -1;
}

export interface DumpMonitorsMessage {
  readonly kind: typeof MessageKind.DumpMonitors;
  readonly requestId: number;
}

export interface MonitorsDumpedMessage {
  readonly kind: typeof MessageKind.MonitorsDumped;
  readonly requestId: number;
  readonly monitors: readonly MonitorState[];
}

/** Messages for the main thread, or passing through it. */
export type ToMain =
  | TaskSettledMessage
  | RunChildMessage
  | TerminateChildMessage
  | CallMessage
  | CallResultMessage
  | HostingMessage
  | HostingEndedMessage
  | ReleaseMessage
  | CloseMonitorMessage
  | SpawnMessage
  | SpawnedMessage
  | CloseActorMessage
  | DeadlockProbeMessage
  | DeadlockVerdictMessage
  | MonitorsDumpedMessage
  | JobBlockedMessage
  | SubscribeMessage
  | StreamEventMessage
  | UnsubscribeMessage;

/** Messages for a worker. */
export type ToWorker =
  | RunTaskMessage
  | ChildSettledMessage
  | CallMessage
  | CallResultMessage
  | ConstructMessage
  | SpawnedMessage
  | DeadlockProbeMessage
  | DeadlockVerdictMessage
  | DumpMonitorsMessage
  | ThreadGoneMessage
  | ReleaseMessage
  | CloseMonitorMessage
  | SubscribeMessage
  | StreamEventMessage
  | UnsubscribeMessage;

/** What `workerData` carries to a new worker. */
export interface WorkerStart {
  /** The worker's name in messages, e.g. `thread 3`. */
  readonly name: string;
  /** Whether the worker tracks waits for deadlock detection, as `configure()` said. */
  readonly deadlockDetection: boolean;
  /** The process's monitor counter, so monitor ids are unique across threads. */
  readonly monitorIds: SharedArrayBuffer;
  /** The main thread's TypeScript loader when the worker does not inherit it, e.g. under the `ts-node` command. */
  readonly typescriptLoader: TypeScriptLoaderName | undefined;
}

/** Every message kind, to tell a message of safethread's from anything else posted on its ports. */
export const messageKinds: ReadonlySet<unknown> = new Set<unknown>(Object.values(MessageKind));

/** Whether a value that arrived has the shape of a message: an object whose `kind` is one of {@link MessageKind}. Its fields are the receiver's to check. */
export function isMessage(value: unknown): value is { readonly kind: string } {
  return typeof value === 'object' && value !== null && messageKinds.has((value as { readonly kind?: unknown }).kind);
}

/** Fails loudly on a message kind this side does not know: a version mismatch or a bug. */
export function unknownMessage(message: { readonly kind?: unknown }): never {
  throw new Error(`safethread: unknown message kind ${JSON.stringify(message.kind)}; both threads must run the same safethread`);
}
