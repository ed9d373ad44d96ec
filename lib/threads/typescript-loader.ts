import { createRequire } from 'node:module';
import { dirname, extname } from 'node:path';
import { slot } from '../runtime';
import type { TypeScriptLoaderName } from './wire-types';

/**
 * TypeScript on a worker thread that has no loader of its own.
 *
 * A worker inherits the main thread's Node options, so a program started with `--import tsx`,
 * `-r ts-node/register` or `-r @swc-node/register` brings its loader along. Other runners compile
 * the main thread's modules by themselves and leave workers with nothing: the `ts-node` command
 * registers in-process, jest (ts-jest) and vitest transform only their own module graphs. A worker
 * that must load a `.ts` module then registers a loader itself, found from the user's file (the
 * user's project installs it), never from safethread's own folder, which may sit elsewhere.
 */

/** Extensions of TypeScript modules. */
const TYPESCRIPT_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

/** Whether loading `file` with `require` needs a TypeScript loader that this thread has not registered yet. */
export function needsTypeScriptLoader(file: string): boolean {
  const extension = extname(file);
  return TYPESCRIPT_EXTENSIONS.includes(extension) && require.extensions[extension] === undefined;
}

/**
 * The loader a worker registers first when it must load TypeScript: the one the main thread runs
 * under and named in the worker's start message (threads/worker-entry.ts adopts it). Unset on the
 * main thread.
 */
class PreferredLoader {
  #name: TypeScriptLoaderName | undefined = undefined;

  get name(): TypeScriptLoaderName | undefined {
    return this.#name;
  }

  adopt(name: TypeScriptLoaderName | undefined): void {
    this.#name = name;
  }
}

const preferred = slot('preferred TypeScript loader', () => new PreferredLoader());

/** The loader this thread registers first, if the main thread named one. */
export function preferredLoader(): TypeScriptLoaderName | undefined {
  return preferred().name;
}

/** A worker takes the loader its start message names. */
export function preferLoader(name: TypeScriptLoaderName | undefined): void {
  preferred().adopt(name);
}

/**
 * The loader the main thread uses, when the workers will not inherit it: the `ts-node` command
 * registers in-process and leaves its instance on `process`.
 */
export function mainThreadLoader(): TypeScriptLoaderName | undefined {
  return (process as unknown as Record<symbol, unknown>)[Symbol.for('ts-node.register.instance')] !== undefined ? 'ts-node' : undefined;
}

/**
 * Registers a TypeScript loader for `file` on this thread: `preferred` first (what the main
 * thread used), then tsx, @swc-node/register, ts-node and finally TypeScript's own
 * `transpileModule`, each resolved from the file's folder. Returns the one registered, or
 * undefined when the user's project has none of them.
 */
export function registerTypeScriptLoader(file: string, preferred: TypeScriptLoaderName | undefined): TypeScriptLoaderName | undefined {
  const requireFromFile = createRequire(file);
  const order: TypeScriptLoaderName[] = ['tsx', '@swc-node/register', 'ts-node', 'typescript'];
  if (preferred !== undefined) order.unshift(preferred);
  for (const name of order) {
    let resolved: string;
    try {
      resolved = requireFromFile.resolve(ENTRY_POINTS[name]);
    } catch {
      continue; // not installed in the user's project
    }
    REGISTER[name](requireFromFile(resolved), file);
    return name;
  }
  return undefined;
}

/** The module each loader is registered through. */
const ENTRY_POINTS: Record<TypeScriptLoaderName, string> = {
  'ts-node': 'ts-node',
  tsx: 'tsx/cjs/api',
  '@swc-node/register': '@swc-node/register/register',
  typescript: 'typescript',
};

interface TsNode {
  register(options: object): unknown;
}
interface TsxCommonJs {
  register(): unknown;
}
interface SwcNode {
  register(options?: object): unknown;
}

const REGISTER: Record<TypeScriptLoaderName, (loader: unknown, file: string) => void> = {
  // Type errors are the main thread's to report; a worker only needs the JavaScript.
  'ts-node': (loader, file) =>
    (loader as TsNode).register({ transpileOnly: true, projectSearchDir: dirname(file), compilerOptions: { module: 'commonjs' } }),
  tsx: (loader) => (loader as TsxCommonJs).register(),
  '@swc-node/register': (loader) => (loader as SwcNode).register(),
  typescript: (loader, file) => registerTranspileModule(loader as typeof import('typescript'), file),
};

/**
 * The last resort, with only `typescript` installed (as ts-jest and vitest users have it): each
 * module is compiled alone with `transpileModule`, under the compiler options of the tsconfig.json
 * nearest the user's file, so that decorators compile in the mode the project chose.
 */
function registerTranspileModule(ts: typeof import('typescript'), file: string): void {
  const compilerOptions = nearestCompilerOptions(ts, file);
  const compile = (module: NodeJS.Module, filename: string): void => {
    const source = ts.sys.readFile(filename) ?? '';
    const output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { ...compilerOptions, module: ts.ModuleKind.CommonJS, inlineSourceMap: true, sourceMap: false, declaration: false, noEmit: false },
    });
    (module as unknown as { _compile(code: string, filename: string): void })._compile(output.outputText, filename);
  };
  for (const extension of TYPESCRIPT_EXTENSIONS) require.extensions[extension] ??= compile;
}

function nearestCompilerOptions(ts: typeof import('typescript'), file: string): import('typescript').CompilerOptions {
  const configFile = ts.findConfigFile(dirname(file), ts.sys.fileExists);
  if (configFile === undefined) return { target: ts.ScriptTarget.ES2022 };
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, dirname(configFile)).options;
}
