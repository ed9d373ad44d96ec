import { statSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import * as vm from 'node:vm';
import { packageRootOf, type WorkerScript } from './module-loader';

/**
 * Starting a worker from a V8 code cache of the library.
 *
 * A worker thread starts by loading safethread's one file (scripts/build.js), and compiling it is
 * most of what that costs beyond Node's own start: V8 parses and compiles some 400 KB of code in
 * every new thread, since isolates share no code. V8 can save what it compiled, and a later
 * compile of the same source takes it instead. So the first worker of an installation compiles
 * the file as usual and saves V8's code to a cache file; every later worker, in this process or
 * the next, starts from that cache. Node 22's `module.enableCompileCache()` does the same for
 * every module, but Node 20 has no such thing, so a worker starts through a short bootstrap (see
 * {@link bootstrapSource}) that compiles the library with `vm.Script` and its cached data, and
 * registers the result as the package's module, so that `require('safethread')` on that worker
 * is that same instance.
 *
 * Where: `node_modules/.cache/safethread/` of the project that installed the package (as Babel,
 * ESLint and Terser's caches are kept), so reinstalling the project (`npm ci`) clears it too.
 * A cache is code, so it is trusted no more than the library's own file: it lies beside it in the
 * same tree, and it is used only for this very file, which its name says by the file's size,
 * times and inode (any write to the file changes its change time) and the Node version and
 * architecture. V8 rejects a cache made with other flags, and then the worker compiles as before
 * and saves a new one. Where nothing can be written (a read-only install), workers compile as
 * before. `SAFETHREAD_CODE_CACHE=off` turns it off.
 */

/**
 * The cache file of a library file, for a worker started with `execArgv` (its Node options):
 * undefined when there is to be none.
 */
export function codeCacheFile(library: string, execArgv: readonly string[]): string | undefined {
  if (process.env['SAFETHREAD_CODE_CACHE'] === 'off') return undefined;
  // From Node 20.12, code that vm compiles can `import()` through the main loader, which a worker started
  // so needs to load ES task modules (module-loader.ts); before, workers start as they always did.
  if (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER === undefined) return undefined;
  // Code vm compiles has no source map: asked for them, the worker loads the file as usual, so that
  // the library's frames in its stack traces name the TypeScript sources.
  if (asksForSourceMaps(execArgv)) return undefined;
  let stats;
  try {
    stats = statSync(library, { bigint: true });
  } catch {
    return undefined;
  }
  return join(cacheFolder(library), `${cachePrefix(library)}${[stats.size, stats.mtimeNs, stats.ctimeNs, stats.ino].join('-')}${CACHE_SUFFIX}`);
}

/** What the names of a file's caches for this Node start with: one Node's caches never replace another's. */
function cachePrefix(library: string): string {
  return `${basename(library)}-${process.version}-${process.arch}-`;
}

const CACHE_SUFFIX = '.v8-cache';

function asksForSourceMaps(execArgv: readonly string[]): boolean {
  return execArgv.includes('--enable-source-maps') || (process.env['NODE_OPTIONS'] ?? '').split(/\s+/).includes('--enable-source-maps');
}

/** `node_modules/.cache/safethread` of the project the package is installed in, or of the package itself. */
function cacheFolder(library: string): string {
  const marker = `${sep}node_modules${sep}`;
  const at = library.lastIndexOf(marker);
  if (at !== -1) return join(library.slice(0, at + marker.length), '.cache', 'safethread');
  // Not installed (a checkout, or a link): beside its own dependencies.
  return join(packageRootOf(dirname(library)), 'node_modules', '.cache', 'safethread');
}

/** How a worker starts on `library` (safethread's one file) through its code cache. */
export function codeCacheStart(library: string, cacheFile: string): WorkerScript {
  return { filename: bootstrapSource(library, cacheFile, cachePrefix(library)), eval: true };
}

/**
 * The worker's first code, plain JavaScript run by Node as the worker's script. It does what
 * `require(library)` would, but compiles through the cache: the module goes into `require.cache`
 * under the file's own name first (so that a cycle back into it, or a user's module on this worker,
 * gets this instance), and its `require.main` is itself, which tells the library that this worker
 * is one of its own (lib/index.ts). When there was no usable cache, it saves one once the module
 * has run, so that it also holds the functions its set-up compiled; a failure to save is no error.
 * Code compiled so cannot `import()` (Node 20 drops the loader of a script made from cached data),
 * which the library's one dynamic import allows for (module-loader.ts).
 */
function bootstrapSource(library: string, cacheFile: string, prefix: string): string {
  return `
const { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');
const { threadId } = require('node:worker_threads');
const filename = ${JSON.stringify(library)};
const cacheFile = ${JSON.stringify(cacheFile)};
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const source = readFileSync(filename, 'utf8');
const script = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + source + '\\n})', { filename, cachedData });
const library = new Module(filename);
library.filename = filename;
const libraryRequire = Module.createRequire(filename);
libraryRequire.main = library;
libraryRequire.cache[filename] = library;
try {
  script.runInThisContext().call(library.exports, library.exports, libraryRequire, library, filename, dirname(filename));
} catch (error) {
  delete libraryRequire.cache[filename];
  throw error;
}
library.loaded = true;
if (cachedData === undefined || script.cachedDataRejected) {
  try {
    const folder = dirname(cacheFile);
    const name = cacheFile.slice(folder.length + 1);
    mkdirSync(folder, { recursive: true });
    const partial = cacheFile + '.' + process.pid + '-' + threadId;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
    // This Node's caches of earlier installs of the file are of no use any more.
    for (const other of readdirSync(folder)) {
      if (other !== name && other.startsWith(${JSON.stringify(prefix)}) && other.endsWith(${JSON.stringify(CACHE_SUFFIX)})) rmSync(join(folder, other), { force: true });
    }
  } catch {}
}
`;
}
