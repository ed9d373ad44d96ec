import { DefinitionError } from '../errors/definition-error';
import { runtime } from '../runtime';
import { callerFile, loadModule } from './module-loader';

/**
 * Tasks: module-level functions registered so that a worker can find them by loading their module.
 *
 * A task may use its module's imports and helpers, unlike a self-contained inline function,
 * because the worker runs the same module. The key is the file and the function's name (or, for
 * an anonymous function, its position among the file's anonymous tasks), which comes out the
 * same on every thread because a module registers its tasks in the same order everywhere.
 */

/** Where a task lives: enough for another thread to find it. */
export interface TaskLocation {
  readonly file: string;
  readonly key: string;
  /** The name in messages. */
  readonly name: string;
}

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
  if (runtime.taskLocations.has(fn)) return fn;
  const file = callerFile();
  if (file === undefined) throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', `task ${fn.name || '(anonymous)'}`, 'the module that registers it could not be found on the call stack');
  let key = fn.name;
  if (key === '') {
    const ordinal = runtime.anonymousTasks.get(file) ?? 0;
    runtime.anonymousTasks.set(file, ordinal + 1);
    key = `#${ordinal}`;
  }
  const id = `${file}#${key}`;
  if (runtime.tasks.has(id)) {
    throw new DefinitionError('ERR_NOT_PORTABLE_FUNCTION', `task ${key}`, `${file} registers two tasks named ${key}; give each a different function name`);
  }
  runtime.tasks.set(id, fn);
  runtime.taskLocations.set(fn, { file, key, name: fn.name || `anonymous task ${key} of ${file}` });
  return fn;
}

/** Where a registered task lives, or undefined for a function that is not a task. */
export function locateTask(fn: Function): TaskLocation | undefined {
  return runtime.taskLocations.get(fn);
}

/** Finds a task on this thread, loading its module first if this thread has not yet. */
export function findTask(location: TaskLocation): Function {
  const id = `${location.file}#${location.key}`;
  let fn = runtime.tasks.get(id);
  if (fn === undefined) {
    loadModule(location.file);
    fn = runtime.tasks.get(id);
  }
  if (fn === undefined) throw new DefinitionError('ERR_TASK_NOT_FOUND', location.name, location.file);
  return fn;
}
