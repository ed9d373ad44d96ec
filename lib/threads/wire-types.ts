import type { DeadlockStep } from '../errors/deadlock-error';

/**
 * The data that messages between threads carry besides values (see protocol.ts): where tasks and
 * error classes are found, errors as plain data, deadlock probes and monitor dumps. Types only,
 * no logic: the modules that make and read this data import its shape from here.
 */

/** Where a task lives: enough for another thread to find it. */
export interface TaskLocation {
  readonly file: string;
  /** Its function's name, or `#N` for an anonymous task at position N. */
  readonly key: string;
  /** Its position among the file's tasks, which finds it where a compiler renamed the function. */
  readonly ordinal: number;
  /** The name in messages. */
  readonly name: string;
}

/** The TypeScript loaders a worker can register, in the order tried. */
export type TypeScriptLoaderName = 'ts-node' | 'tsx' | '@swc-node/register' | 'typescript';

/** The module that exports an error class, as carried in a serialized error. */
export interface ErrorClassLocation {
  /** The module's file, as `require.cache` names it (an absolute path). */
  readonly file: string;
  /** The export that holds the class; absent when the module's `exports` is the class itself. */
  readonly exportName?: string;
}

/** A value structured clone copies exactly, with nothing to lose on the way. */
export type PlainData =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly PlainData[]
  | { readonly [key: string]: PlainData };

/**
 * A thrown value as plain, structured-clonable data. Made by `serializeError` (serialize-error.ts)
 * on the thread that threw, read by `deserializeError` on the thread that receives it.
 */
export interface SerializedError {
  /** The class to revive as: a key of the table of revivable classes, else `'Error'`. */
  readonly type: string;
  /**
   * Where the error's own class is exported, when it is not the table's `type` itself (a user's
   * class): revived as that class when the receiving thread finds it there, else as `type`.
   */
  readonly location?: ErrorClassLocation;
  /** The revived error's `name`: its own, or its class's name when it did not set one. */
  readonly name: string;
  readonly message: string;
  /** The stack on the thread that threw. */
  readonly stack: string;
  /** Where it was thrown, e.g. `'thread 3'`: named in the stack where the threads join. */
  readonly thread: string;
  readonly code?: string | number;
  /** Present exactly when the error had a `cause`, whatever value that was. */
  readonly cause?: SerializedError;
  /** An `AggregateError`'s (or `BranchError`'s) errors. */
  readonly errors?: readonly SerializedError[];
  /** Own enumerable properties holding plain data, e.g. `timeoutMs`, `cycle`, `code`. */
  readonly props?: Readonly<Record<string, PlainData>>;
  /** Own enumerable properties holding errors; `'cause'` marks the very value of `cause`. */
  readonly errorProps?: Readonly<Record<string, SerializedError | 'cause'>>;
  /** Set when something other than an Error was thrown: that value, revived as it is. */
  readonly thrown?: { readonly value: PlainData; readonly frozen: boolean };
}

/** Where a probe has been: the turns it passed (as steps) and the queued calls it met. */
export interface ProbePath {
  /** The queued call the probe started from. */
  readonly origin: number;
  readonly steps: readonly DeadlockStep[];
  readonly queued: readonly QueuedEntry[];
  /** Ids of the turns passed, so a loop elsewhere in the graph ends the probe. */
  readonly visited: readonly number[];
}

/** A queued call a probe met, and the step at which it met it. */
export interface QueuedEntry {
  readonly id: number;
  readonly thread: number;
  readonly at: number;
  /** The index in `steps` of the turn it waits for. */
  readonly step: number;
}

/**
 * One monitor in a `MonitorDump`, what `dumpMonitors()` returns.
 *
 * @example
 * ```ts
 * const busy = (await dumpMonitors()).monitors.filter((state) => state.queued.length > 0).map((state) => state.monitor);
 * ```
 */
export interface MonitorState {
  /** `Class#id`. */
  readonly monitor: string;
  /** The thread it lives on. */
  readonly thread: string;
  /** The turns inside it (one, or several of one chain when it is reentrant); empty when it is free. */
  readonly running: readonly TurnState[];
  /** The calls waiting for it, first come first. */
  readonly queued: readonly QueuedCallState[];
}

/**
 * A turn running in a monitor.
 *
 * @example
 * ```ts
 * for (const turn of state.running) console.log(`${turn.method} waits for ${turn.waitsFor.join(', ') || 'nothing'}`);
 * ```
 */
export interface TurnState {
  readonly method: string;
  /** The call's id, unique in the process; `waitsFor` of other turns names calls by it. */
  readonly call: number;
  /** The monitor calls it waits for, as `Class#id.method (call N, thread)`. */
  readonly waitsFor: readonly string[];
  /** Whether it is in a `sleep`, and so will resume by itself. */
  readonly sleeping: boolean;
}

/**
 * A call queued for a monitor.
 *
 * @example
 * ```ts
 * const waiting = state.queued.map((call) => call.method); // ['deposit', 'balance']
 * ```
 */
export interface QueuedCallState {
  readonly method: string;
  readonly call: number;
}
