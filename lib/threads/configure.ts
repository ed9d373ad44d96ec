import type { ResourceLimits } from 'node:worker_threads';
import { closestName } from '../errors/closest-name';
import { DefinitionError } from '../errors/definition-error';
import { cancelBackground } from '../scope/background';
import { closeAllActors } from './actor-threads';
import { currentChildRunner, retireChildRunner } from './child-runner';
import { ThreadPool } from './pool';
import { configuration } from './pool-options';

/**
 * How the worker pool runs, set by the user: `configure` and `shutdown`.
 */

/** Options of {@link configure}. */
export interface PoolOptions {
  /**
   * How many worker threads children may use at once.
   * @default os.availableParallelism()
   */
  readonly threads?: number;
  /** Memory limits of each worker (see `worker_threads.ResourceLimits`); a worker over them crashes its child. */
  readonly resourceLimits?: ResourceLimits;
  /**
   * How long an idle worker is kept before it is ended.
   * @default 10_000
   */
  readonly idleTimeoutMs?: number;
  /**
   * Whether monitor calls are tracked in the wait-for graph, so that a deadlock rejects one call
   * with a `DeadlockError` instead of hanging. Set it before starting threads: workers take the
   * setting when they start.
   *
   * Tracking carries each turn's identity through its awaits with Node's AsyncLocalStorage. On
   * Node 20 and 22 that makes every promise of the process about 2-3x slower once in use (a few
   * hundred nanoseconds per await); Node 24's AsyncContextFrame removes that cost. Turn it off
   * only for code that is proven free of deadlocks and must not pay it.
   * @default true
   */
  readonly deadlockDetection?: boolean;
  /**
   * The Node.js options worker threads start with (see `Worker`'s `execArgv`), e.g. a TypeScript
   * loader: `['--import', 'tsx']`. Applies to threads started from then on.
   *
   * @example
   * ```ts
   * configure({ execArgv: ['--import', 'tsx'] });
   * ```
   * @default the main thread's `process.execArgv`
   */
  readonly execArgv?: readonly string[];
}

/**
 * Sets how the worker pool runs. May be called at any time: new limits apply to threads started
 * from then on.
 *
 * @example
 * ```ts
 * configure({ threads: 4, idleTimeoutMs: 1000, resourceLimits: { maxOldGenerationSizeMb: 256 } });
 * ```
 */
export function configure(options: PoolOptions): void {
  checkOptions(options);
  const execArgv = options.execArgv === undefined ? {} : { execArgv: Object.freeze([...options.execArgv]) };
  configuration().update({ ...options, ...execArgv });
  const runner = currentChildRunner();
  if (runner instanceof ThreadPool) runner.reconfigure(options);
}

interface OptionRule {
  /** What the option accepts, as the message says it. */
  readonly expected: string;
  readonly accepts: (value: unknown) => boolean;
}

/** Every option {@link configure} knows, with what it accepts: any other key is refused. */
const RULES: { readonly [K in keyof Required<PoolOptions>]: OptionRule } = {
  threads: { expected: 'a whole number from 1 up', accepts: (value) => Number.isInteger(value) && (value as number) >= 1 },
  resourceLimits: { expected: 'an object of memory limits (see worker_threads.ResourceLimits)', accepts: (value) => typeof value === 'object' && value !== null && !Array.isArray(value) },
  idleTimeoutMs: { expected: 'a number of milliseconds from 0 up', accepts: (value) => typeof value === 'number' && value >= 0 },
  deadlockDetection: { expected: 'true or false', accepts: (value) => typeof value === 'boolean' },
  execArgv: { expected: 'an array of strings', accepts: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string') },
};

/** Names other pools give these options. */
const ALIASES: Readonly<Record<string, string>> = { maxThreads: 'threads', workers: 'threads', idleTimeout: 'idleTimeoutMs' };

/** Refuses options that are not an object, keys it does not know (a typo would be ignored silently) and values of the wrong kind. */
function checkOptions(options: unknown): asserts options is PoolOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'configure', 'options', 'an object', describe(options));
  }
  const known = Object.keys(RULES);
  for (const [key, value] of Object.entries(options)) {
    const rule = Object.hasOwn(RULES, key) ? (RULES as Readonly<Record<string, OptionRule>>)[key] : undefined;
    if (rule === undefined) {
      const suggestion = closestName(key, known, ALIASES);
      throw new DefinitionError('ERR_INVALID_OPTION', 'configure', key, `one of the known options (${known.join(', ')})`, `an unknown option${suggestion === undefined ? '' : `; did you mean \`${suggestion}\`?`}`);
    }
    if (value !== undefined && !rule.accepts(value)) throw new DefinitionError('ERR_INVALID_OPTION', 'configure', key, rule.expected, describe(value));
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    const index = value.findIndex((item) => typeof item !== 'string');
    return index === -1 ? 'an array' : `an array with ${describe(value[index])} at index ${index}`;
  }
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/**
 * Cancels the background children (see `background`) and waits for them, within their grace;
 * then ends every worker thread of the pool and every spawned actor. Children still running reject;
 * calls to monitors on those threads reject with `MonitorClosedError`; the next branch starts a
 * new pool. Not needed for a program to exit (an idle pool never holds it open), but useful in tests.
 *
 * @example
 * ```ts
 * afterAll(() => shutdown());
 * ```
 */
export async function shutdown(): Promise<void> {
  await cancelBackground('shutdown() was called');
  const current = retireChildRunner();
  await Promise.all([current instanceof ThreadPool ? current.close() : undefined, closeAllActors()]);
}
