import type { TaskSpec } from '../threads/protocol';
import { DefinitionError } from '../errors/definition-error';
import { inlineSource } from '../threads/inline-function';
import { locateTask } from '../threads/task';

/**
 * A child of a branch: one function running on a pool thread (or on this thread, for
 * `addLocal`), with its result and a way to cancel it alone.
 */
export interface Child<R> {
  /** Settles with the child's value or error. Cancelling the child rejects it with a `CancelledError`. */
  readonly result: Promise<R>;
  /** Asks this child alone to stop; the branch does not count that as a failure. */
  cancel(reason?: unknown): void;
}

/** How a function reaches a worker: as a registered task, or as the source of a self-contained function. */
export function describeWork(fn: unknown): { readonly name: string; readonly spec: TaskSpec } {
  if (typeof fn !== 'function') {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', 'children.add(fn)', `fn is ${fn === null ? 'null' : typeof fn}, not a function`);
  }
  const location = locateTask(fn);
  if (location !== undefined) return { name: location.name, spec: { kind: 'task', location } };
  const name = fn.name || 'an inline function';
  return { name, spec: { kind: 'inline', name, source: inlineSource(fn, `child ${name}`) } };
}
