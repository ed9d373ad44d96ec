import { DefinitionError } from '../errors/definition-error';
import { slot } from '../runtime';
import { callerFile, loadModuleAsync } from './module-loader';
import type { TaskLocation } from './wire-types';

/**
 * Tasks: module-level functions registered so that a worker can find them by loading their module.
 *
 * A task may use its module's imports and helpers, unlike a self-contained inline function,
 * because the worker runs the same module. A task is found by its file and its position among the
 * file's tasks, which comes out the same on every thread because a module registers its tasks in
 * the same order everywhere (a compiler may rename the function on one thread and not on another),
 * and by its file and name.
 */

/**
 * Registers a module-level function as a task that `children.add` can run on a worker thread.
 * Call it at the top level of a module that has no other side effects when loaded (a worker
 * loads the module to find the task). Returns the function unchanged.
 *
 * @example
 * ```ts
 * // primes.ts
 * import { task } from 'safethread';
 * import { isPrime } from './math';
 * export const countPrimes = task(function countPrimes(from: number, to: number): number {
 *   let count = 0;
 *   for (let n = from; n < to; n++) if (isPrime(n)) count++;
 *   return count;
 * });
 * ```
 */
export function task<F extends (...args: never[]) => unknown>(fn: F): F {
  if (typeof fn !== 'function') {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', 'task(fn)', `it was given ${typeof fn}, not a function`);
  }
  const registry = tasks();
  if (registry.locate(fn) !== undefined) return fn;
  const file = callerFile();
  if (file === undefined) throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', `task ${fn.name || '(anonymous)'}`, 'the module that registers it could not be found on the call stack');
  const ordinal = registry.nextOrdinal(file);
  const key = fn.name === '' ? `#${ordinal}` : fn.name;
  registry.register(fn, { file, key, ordinal, name: fn.name || `anonymous task ${key} of ${file}` });
  return fn;
}

/** The tasks registered on this thread: by their keys, and where each was registered. */
class TaskRegistry {
  readonly #byKey = new Map<string, Function>();
  readonly #locations = new WeakMap<Function, TaskLocation>();
  /**
   * How many tasks each file has registered so far. A module registers in the same order on every
   * thread, so the position finds a task even when a compiler renamed it on one thread and not on
   * another (esbuild turns `square` into `square2`).
   */
  readonly #ordinals = new Map<string, number>();

  /** The position of the next task `file` registers. */
  nextOrdinal(file: string): number {
    const ordinal = this.#ordinals.get(file) ?? 0;
    this.#ordinals.set(file, ordinal + 1);
    return ordinal;
  }

  register(fn: Function, location: TaskLocation): void {
    // A module that runs again (a test runner's fresh module registry) registers its tasks anew.
    for (const id of taskKeys(location)) this.#byKey.set(id, fn);
    this.#locations.set(fn, location);
  }

  locate(fn: Function): TaskLocation | undefined {
    return this.#locations.get(fn);
  }

  /**
   * By position first: a module registers in the same order everywhere. A module that ran twice on
   * the sending thread sent a position past this thread's count, and its name finds it.
   */
  find(location: TaskLocation): Function | undefined {
    for (const id of taskKeys(location)) {
      const fn = this.#byKey.get(id);
      if (fn !== undefined) return fn;
    }
    return undefined;
  }
}

const tasks = slot('tasks', () => new TaskRegistry());

/** The keys a task is registered under: by position, which survives renaming, and by name. */
function taskKeys(location: TaskLocation): readonly string[] {
  return [`${location.file}#@${location.ordinal}`, `${location.file}#${location.key}`];
}

/** Where a registered task lives, or undefined for a function that is not a task. */
export function locateTask(fn: Function): TaskLocation | undefined {
  return tasks().locate(fn);
}

/** Finds a task on this thread, loading its module first if this thread has not yet. */
export async function findTask(location: TaskLocation): Promise<Function> {
  let fn = tasks().find(location);
  if (fn === undefined) {
    await loadModuleAsync(location.file);
    fn = tasks().find(location);
  }
  if (fn === undefined) throw new DefinitionError('ERR_TASK_NOT_FOUND', location.name, location.file);
  return fn;
}
