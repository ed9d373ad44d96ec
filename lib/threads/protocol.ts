import type { SerializedError } from './serialize-error';
import type { TaskLocation } from './task';

/**
 * The messages between the main thread and its workers: kinds and shapes only, no logic.
 * Receivers dispatch with a `switch` over `kind` that fails loudly on a kind it does not know.
 * Messages travel in batches (arrays): everything sent in one tick goes as one postMessage.
 */
export const MessageKind = {
  /** main -> worker: run a child. */
  RunTask: 'run-task',
  /** main -> worker: the child's branch was cancelled; the child should stop. */
  CancelTask: 'cancel-task',
  /** worker -> main: a child finished, with its value or error. */
  TaskSettled: 'task-settled',
} as const;

/** What a child runs: a registered task, found by module, or a self-contained function's source. */
export type TaskSpec =
  | { readonly kind: 'task'; readonly location: TaskLocation }
  | { readonly kind: 'inline'; readonly source: string; readonly name: string };

export interface RunTaskMessage {
  readonly kind: typeof MessageKind.RunTask;
  readonly id: number;
  readonly spec: TaskSpec;
  readonly args: readonly unknown[];
}

export interface CancelTaskMessage {
  readonly kind: typeof MessageKind.CancelTask;
  readonly id: number;
  readonly reason: SerializedError;
}

export type TaskSettledMessage =
  | { readonly kind: typeof MessageKind.TaskSettled; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: typeof MessageKind.TaskSettled; readonly id: number; readonly ok: false; readonly error: SerializedError };

export type ToWorker = RunTaskMessage | CancelTaskMessage;
export type FromWorker = TaskSettledMessage;

/** What `workerData` carries to a new worker. */
export interface WorkerStart {
  /** The worker's name in messages, e.g. `thread 3`. */
  readonly name: string;
}

/** Fails loudly on a message kind this side does not know: a version mismatch or a bug. */
export function unknownMessage(message: { readonly kind?: unknown }): never {
  throw new Error(`safethread: unknown message kind ${JSON.stringify(message.kind)}; both threads must run the same safethread`);
}
