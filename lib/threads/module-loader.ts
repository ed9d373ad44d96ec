import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileFunction, constants as vmConstants } from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import { DefinitionError } from '../errors/definition-error';
import { thisThread } from '../runtime';
import { whileImportingModule, whileLoadingModule } from './loading-module';
import { needsTypeScriptLoader, preferredLoader, registerTypeScriptLoader } from './typescript-loader';

/**
 * Finding and loading the user's code on another thread.
 *
 * A task or class is found on a worker by loading the module that defined it there, so the
 * worker needs to know which file that was (read off the call stack when it was registered) and
 * must be able to load it. Files are named by path on every thread, whether the stack said
 * `file:///…` (an ES module) or a path, so that the keys of tasks and classes agree. Compiled
 * JavaScript loads as it is (ES modules too: `require` loads them on Node 20.19 and later, and
 * `import()` takes those with top-level await); TypeScript loads through the loader the worker
 * inherited from the main thread's options or, when there is none, one registered from the user's
 * project (see typescript-loader.ts).
 */

/** The file of the first caller outside safethread and outside compiler helpers, from V8's structured stack. */
export function callerFile(): string | undefined {
  // Bundled, safethread's frames and the user's share one file: nothing could be found, so say so now.
  if (!existsSync(WORKER_ENTRY)) throw bundledError(WORKER_ENTRY);
  const original = Error.prepareStackTrace;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, callerFile);
    for (const frame of holder.stack ?? []) {
      const file = asPath(frame.getFileName() ?? undefined);
      if (file === undefined || isSafethreadFile(file) || isCompilerHelper(file)) continue;
      return file;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/** A stack frame's file as a path; undefined for frames that are no file (`node:`, `<anonymous>`, eval). */
function asPath(file: string | undefined): string | undefined {
  if (file === undefined || file === '') return undefined;
  if (file.startsWith('file://')) return fileURLToPath(file);
  // Paths are absolute; anything else is a built-in (`node:fs`), an eval or a virtual module.
  return file.startsWith(sep) || /^[A-Za-z]:[\\/]/.test(file) ? file : undefined;
}

/**
 * Whether safethread's modules were bundled into one file: its own build (scripts/build.js makes
 * the package's main file so) or a user's bundle that took safethread in.
 */
const ONE_FILE = basename(__filename, extname(__filename)) !== 'module-loader';

/**
 * Whether this file is safethread's own one-file build, not a user's bundle: a worker that started
 * on it is one of its own; elsewhere, it is the file `require('safethread')` gives (a package's own
 * name resolves to its main file from inside it).
 */
function isOwnBuild(): boolean {
  // Resolving by name loads Node's package-exports resolver: a worker starting up need not.
  if (!isMainThread && require.main?.filename === __filename) return true;
  try {
    return require.resolve('safethread') === __filename;
  } catch {
    return false;
  }
}

/**
 * The worker program. Built, it is the package's one file itself, which runs the worker program
 * when a worker starts on it (lib/index.ts), so that the user's `require('safethread')` on the
 * worker gets the very instance that runs it; from the sources (`.ts`) or a per-file build, it is
 * the worker entry beside this file. In a user's bundle it is missing, which {@link workerScript} reports.
 */
export const WORKER_ENTRY = ONE_FILE && isOwnBuild() ? __filename : join(__dirname, `worker-entry${extname(__filename)}`);

/** Whether workers start on this very file, safethread's one-file build (which a code cache can then serve, see code-cache.ts). */
export const WORKERS_START_ON_LIBRARY = WORKER_ENTRY === __filename;

/** safethread's own `lib/` folder (source, compiled, or holding the one-file build), with a trailing separator. */
const LIB_DIR = (ONE_FILE ? __dirname : dirname(__dirname)) + sep;
/** The root of the package whose `lib/` folder is `libDir`: `lib/`'s parent, or `dist/lib/`'s grandparent in the built package. */
export function packageRootOf(libDir: string): string {
  const parent = dirname(libDir);
  return basename(parent) === 'dist' ? dirname(parent) : parent;
}

const PACKAGE_ROOT = packageRootOf(LIB_DIR);
/** Both the built files and the TypeScript sources, which source maps may name. */
const OWN_FOLDERS = [LIB_DIR, `${PACKAGE_ROOT}${sep}lib${sep}`, `${PACKAGE_ROOT}${sep}dist${sep}lib${sep}`];

function isSafethreadFile(file: string): boolean {
  return OWN_FOLDERS.some((folder) => file.startsWith(folder));
}

/**
 * Code that runs between the user's class and the decorator: TypeScript's tslib, reflect-metadata's
 * Reflect.decorate (which TypeScript's legacy helper calls when present), and the helper runtimes
 * of swc, oxc (Vite 8) and Babel. None of them defines the user's class.
 */
const COMPILER_HELPERS = ['tslib', 'reflect-metadata', '@swc/helpers', '@oxc-project/runtime', '@babel/runtime'].map(
  (name) => `${sep}node_modules${sep}${name.replace('/', sep)}${sep}`,
);

function isCompilerHelper(file: string): boolean {
  return COMPILER_HELPERS.some((folder) => file.includes(folder));
}

/** How a worker thread is started so that it can load this library and the user's modules. */
export interface WorkerScript {
  readonly filename: string;
  readonly eval: boolean;
}

/**
 * The script a new worker runs: the compiled entry as it is, or, when safethread itself runs
 * from TypeScript sources (this repository's own spec and samples), a small bootstrap that
 * registers a TypeScript loader first.
 */
export function workerScript(entry: string): WorkerScript {
  if (!existsSync(entry)) throw bundledError(entry);
  if (!entry.endsWith('.ts')) return { filename: entry, eval: false };
  return { filename: bootstrapSource(entry), eval: true };
}

/** A bundler copied safethread into one file: its worker entry is not beside it any more. */
function bundledError(entry: string): DefinitionError {
  return new DefinitionError(
    'ERR_MODULE_NOT_LOADABLE',
    "safethread's worker entry",
    entry,
    'it is not there, which happens when a bundler copies safethread into a single file',
    "keep safethread out of the bundle and install it beside it (esbuild: --external:safethread or --packages=external; webpack: externals: ['safethread'])",
  );
}

function bootstrapSource(entry: string): string {
  // Runs as plain JavaScript in the new worker; `require` there resolves from the working directory,
  // so the loaders are resolved from this library's own folder instead.
  return `
const paths = [${JSON.stringify(dirname(LIB_DIR))}, process.cwd()];
if (require.extensions['.ts'] === undefined) {
  let registered = false;
  // tsx first: esbuild compiles the library in a quarter of a second, ts-node takes over a second.
  try {
    require(require.resolve('tsx/cjs/api', { paths })).register();
    registered = true;
  } catch (tsxMissing) {
    try {
      require(require.resolve('ts-node', { paths })).register({ transpileOnly: true, compilerOptions: { module: 'commonjs' } });
      registered = true;
    } catch (tsNodeMissing) {}
  }
  if (!registered) {
    throw new Error('safethread: this program runs from TypeScript sources, and a worker thread needs a TypeScript loader to load them; install tsx or ts-node, or run the compiled JavaScript');
  }
}
require(${JSON.stringify(entry)});
`;
}

/**
 * Loads a module on this thread, so that its top-level registrations (tasks, classes) run here.
 * A module with top-level await cannot load synchronously: {@link loadModuleAsync} loads it.
 */
export function loadModule(file: string): void {
  prepareToLoad(file);
  try {
    whileLoadingModule(file, () => require(file));
  } catch (error) {
    throw notLoadable(file, error);
  }
}

/** Loads a module like {@link loadModule}, also when it is an ES module with top-level await. */
export async function loadModuleAsync(file: string): Promise<void> {
  prepareToLoad(file);
  try {
    whileLoadingModule(file, () => require(file));
  } catch (error) {
    if (!isAsyncModule(error)) throw notLoadable(file, error);
    try {
      await whileImportingModule(file, () => importModule(pathToFileURL(file).href));
    } catch (importError) {
      throw notLoadable(file, importError);
    }
  }
}

function isAsyncModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_REQUIRE_ASYNC_MODULE' || code === 'ERR_REQUIRE_ESM';
}

/**
 * A real dynamic import: compiled to CommonJS, `import()` would become `require()`. On a worker
 * started from the code cache (code-cache.ts), this file is code that `vm.Script` compiled from
 * cached data, which Node 20 leaves without a loader for `import()`; there, the import goes through
 * a function compiled apart for it, with the main context's loader.
 */
async function importModule(specifier: string): Promise<unknown> {
  try {
    return await plainImport(specifier);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') throw error;
    return importThroughMainLoader(specifier);
  }
}

const plainImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

function importThroughMainLoader(specifier: string): Promise<unknown> {
  const load = compileFunction('return import(specifier)', ['specifier'], {
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (specifier: string) => Promise<unknown>;
  // Node calls that loader experimental, once, as the import starts: a warning about safethread's insides, not the user's code.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return load(specifier);
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Registers a TypeScript loader first when the file needs one and this thread has none. */
function prepareToLoad(file: string): void {
  if (!needsTypeScriptLoader(file)) return;
  const registered = registerTypeScriptLoader(file, preferredLoader());
  if (registered === undefined) {
    throw new DefinitionError(
      'ERR_MODULE_NOT_LOADABLE',
      threadInWords(),
      file,
      'it is TypeScript, and no TypeScript loader was registered on the worker nor found from that file (tried tsx, @swc-node/register, ts-node and typescript)',
      "install one in your project (npm install --save-dev tsx), start the program under it (node --import tsx main.ts), pass it to the workers with configure({ execArgv: ['--import', 'tsx'] }), or run the compiled JavaScript",
    );
  }
}

function threadInWords(): string {
  const { name } = thisThread();
  return name === 'main' ? 'the main thread' : name;
}

/** Why a module failed to load on a worker, with what to do, and the original error as its cause. */
function notLoadable(file: string, error: unknown): unknown {
  if (error instanceof DefinitionError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
  // By name: the error may come from another realm (jest's module registry runs in a vm context).
  const syntax = (error as { name?: unknown } | null)?.name === 'SyntaxError';
  const wrapped = new DefinitionError(
    'ERR_MODULE_NOT_LOADABLE',
    threadInWords(),
    file,
    syntax ? `${message}; the worker's loader${preferredLoader() === undefined ? '' : ` (${preferredLoader()})`} does not compile it as your runner does` : message,
    syntax
      ? "give the workers the loader your program runs under (node --import tsx, node -r ts-node/register, node -r @swc-node/register, or configure({ execArgv: [...] })), or run the compiled JavaScript; decorators and module syntax must compile for Node's own runtime"
      : 'fix the error above; a module that workers load should only define things (tasks, classes) and start nothing when loaded',
  );
  Object.defineProperty(wrapped, 'cause', { value: error, configurable: true, writable: true });
  return wrapped;
}
