/**
 * safethread: safe multi-core concurrency for Node.js.
 *
 * This is the one public entry point; everything else under `lib/` is internal.
 */

import { isMainThread } from 'node:worker_threads';
import { installObservables } from './observables';
import { installMainThread } from './threads/main-thread';
import type { ObservableBridge } from './types';
// The modules whose values cross threads by codec register it when they load: references here;
// tokens, channels and `@shareable` instances with their exports below.
import './monitor/exported-monitors';

// Start-up: the main thread's dispatcher (its router starts with its first worker), and how to
// load the rxjs adapter (with rxjs, when the first Observable is made). Neither starts anything.
installMainThread();
installObservables((): ObservableBridge => require('./rxjs/observable-bridge') as typeof import('./rxjs/observable-bridge'));

// Decorators
export { Monitor, type MonitorDecorator, type MonitorDecoratorFunction } from './decorators/monitor';
export { monitorMethod, type MonitorMethodDecorator, type MonitorMethodDecoratorFunction } from './decorators/monitor-method';
export { shareable, type ShareableDecorator, type ShareableDecoratorFunction } from './decorators/shareable';

// Shareability
export { freeze } from './shareability/freeze';
export { isShareable, assertShareable } from './shareability/is-shareable';
export { transfer } from './shareability/transfer';
export type { CheckedMonitorMethod, CheckedMonitorClass, NotShareableReason } from './shareability/shareable-type';

// Threads, branch and tasks
export { branch, type BranchOptions, type Children, type ChildResult } from './scope/branch';
export type { Child } from './scope/child';
export { background, type Background } from './scope/background';
export { task } from './threads/task';
export { configure, shutdown, type PoolOptions } from './threads/configure';
export { spawn } from './threads/spawn';
export { close } from './monitor/reference';

// Cancellation
export { CancellationSource } from './cancellation/cancellation-source';
export { CancellationToken } from './cancellation/cancellation-token';
export { currentToken } from './cancellation/current-token';
export { sleep, type SleepOptions } from './cancellation/sleep';

// Channels
export { Channel, type ChannelWaitOptions } from './channel/channel';

// Shared dictionaries
export { SharedDict, type SharedDictOptions } from './shared-dict/shared-dict';

// Locks and semaphores (their codec registers as the module loads)
import './sync/lock-codec';
export { Lock } from './sync/lock';
export { Semaphore, type SemaphoreRunOptions } from './sync/semaphore';
export type { Permit } from './sync/permit';
export type { LockWaitOptions } from './sync/lock-handles';

// Deadlocks and diagnostics
export { dumpMonitors, MonitorDump, type MonitorState, type TurnState, type QueuedCallState } from './deadlock/monitor-dump';
export { monitorEvents, type MonitorEvent } from './deadlock/wait-tracking';

// Errors
export { ShareabilityError, type ShareabilityErrorCode } from './errors/shareability-error';
export { DefinitionError, type DefinitionErrorCode } from './errors/definition-error';
export { MonitorAccessError, type MonitorAccessErrorCode } from './errors/monitor-access-error';
export { MonitorClosedError } from './errors/monitor-closed-error';
export { CancelledError, TimeoutError } from './errors/cancelled-error';
export { DeadlockError, type DeadlockStep } from './errors/deadlock-error';
export { ChannelClosedError, type ChannelClosedErrorCode } from './errors/channel-closed-error';
export { SharedDictError, type SharedDictErrorCode } from './errors/shared-dict-error';
export { BranchError } from './errors/branch-error';
export { BackgroundError } from './errors/background-error';
export { ThreadCrashError } from './errors/thread-crash-error';
export { LockError } from './errors/lock-error';
export type { ErrorCode } from './errors/codes';

// Types
export type {
  Shareable,
  SharedPrimitive,
  ShareableArray,
  ShareableRecord,
  Immutable,
  ImmutableArray,
  MonitorOptions,
  MonitorMethodOptions,
  ShareableOptions,
} from './types';

// The one-file build starts its workers on this very file (threads/module-loader.ts): there, after
// the exports that the user's modules will require, this thread runs the worker program.
if (!isMainThread && require.main?.filename === __filename) require('./threads/worker-entry');
