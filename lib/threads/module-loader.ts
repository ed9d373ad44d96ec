import { dirname, sep } from 'node:path';

/**
 * Finding and loading the user's code on another thread.
 *
 * A task or class is found on a worker by loading the module that defined it there, so the
 * worker needs to know which file that was (read off the call stack when it was registered) and
 * must be able to load it: compiled JavaScript loads as it is, and TypeScript loads through the
 * loader the main thread used (tsx and ts-node pass theirs on through execArgv) or, when none was
 * passed on (jest with ts-jest transforms only its own module registry), through ts-node or tsx
 * registered inside the worker.
 */

/** The file of the first caller outside safethread's own `lib/`, from V8's structured stack. */
export function callerFile(): string | undefined {
  const original = Error.prepareStackTrace;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, callerFile);
    for (const frame of holder.stack ?? []) {
      const file = frame.getFileName();
      if (file === undefined || file === null || file.startsWith(LIB_DIR) || file.startsWith('node:')) continue;
      // Decorator plumbing runs between the user's class and the decorator: tslib's helpers, and
      // reflect-metadata's Reflect.decorate, which TypeScript's legacy helper calls when present.
      if (DECORATOR_PLUMBING.some((folder) => file.includes(folder))) continue;
      return file;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}

const DECORATOR_PLUMBING = ['tslib', 'reflect-metadata'].map((name) => `${sep}node_modules${sep}${name}${sep}`);

/** safethread's own `lib/` folder (source or compiled), with a trailing separator. */
const LIB_DIR = dirname(__dirname) + sep;

/** How a worker thread is started so that it can load this library and the user's modules. */
export interface WorkerScript {
  readonly filename: string;
  readonly eval: boolean;
}

/**
 * The script a new worker runs: the compiled entry as it is, or, when safethread itself runs
 * from TypeScript sources, a small bootstrap that registers a TypeScript loader first.
 */
export function workerScript(entry: string): WorkerScript {
  if (!entry.endsWith('.ts')) return { filename: entry, eval: false };
  return { filename: bootstrapSource(entry), eval: true };
}

function bootstrapSource(entry: string): string {
  // Runs as plain JavaScript in the new worker; `require` there resolves from the working directory,
  // so the loaders are resolved from this library's own folder instead.
  return `
const paths = [${JSON.stringify(dirname(LIB_DIR))}, process.cwd()];
if (require.extensions['.ts'] === undefined) {
  let registered = false;
  try {
    require(require.resolve('ts-node', { paths })).register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });
    registered = true;
  } catch (tsNodeMissing) {
    try {
      require(require.resolve('tsx/cjs/api', { paths })).register();
      registered = true;
    } catch (tsxMissing) {}
  }
  if (!registered) {
    throw new Error('safethread: this program runs from TypeScript sources, and a worker thread needs a TypeScript loader to load them; install ts-node or tsx, or run the compiled JavaScript');
  }
}
require(${JSON.stringify(entry)});
`;
}

/** Loads a module on this thread, so that its top-level registrations (tasks, classes) run here. */
export function loadModule(file: string): void {
  require(file);
}
