import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Scratch applications for the end-to-end spec: the packed safethread installed in a directory
 * outside the repository, next to the repository's tools, and the commands a user would type,
 * run as subprocesses a few at a time with a hang guard.
 */

export const root = resolve(__dirname, '../../..');
/** The application templates: `common` holds the user's code every application shares. */
export const templates = resolve(__dirname, '../apps');

/** How a subprocess ended, with everything it printed. */
export interface Run {
  /** The command line, for reports. */
  readonly command: string;
  readonly cwd: string;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The hang guard killed it. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * The environment for a subprocess: this one's, without what jest, npm and the TypeScript loaders
 * set for the process running the spec (an application's tools must find their own settings), and
 * without colours, so that output can be compared.
 */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  const dropped = /^(npm_|jest_|ts_node_|swc_|tsx_|vitest|vite_)|^(node_env|node_options)$/i;
  const kept = Object.entries(process.env).filter(([name]) => !dropped.test(name));
  return { ...Object.fromEntries(kept), NO_COLOR: '1', FORCE_COLOR: '0' };
}

/**
 * Runs a command without blocking this process, in a process group of its own so that the hang
 * guard ends it with whatever it started (test runners start workers of their own). Never rejects:
 * a command that cannot start reports that on stderr.
 */
export function runCommand(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  const started = performance.now();
  const line = [command, ...args].map((word) => (/^[\w./@:=-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
  return new Promise((settle) => {
    const child = spawn(command, args, { cwd, env: cleanEnvironment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const guard = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // It ended meanwhile.
      }
    }, timeoutMs);
    const finish = (status: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(guard);
      settle({ command: line, cwd, status, signal, timedOut, stdout, stderr, seconds: Math.round((performance.now() - started) / 100) / 10 });
    };
    child.on('error', (error) => {
      stderr += `could not start: ${error.message}\n`;
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/** Everything a run printed, for a failure message. */
export function describeRun(run: Run): string {
  const how = run.timedOut ? 'hung, killed by the hang guard' : run.signal !== null ? `killed by ${run.signal}` : `exit code ${run.status}`;
  return `$ ${run.command}   (in ${run.cwd}; ${how}; ${run.seconds} s)\n--- stdout:\n${run.stdout}--- stderr:\n${run.stderr}`;
}

/** Runs jobs at most `concurrency` at a time, first come first served. */
export function limiter(concurrency: number): <T>(job: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Copies what a clone of the repository would hold, with the working tree's changes (tracked
 * files and new ones git does not ignore; never `dist/`), to `clone`, with the repository's
 * node_modules linked for the build's tools. Packing there builds from the sources at hand and
 * leaves the working tree's own `dist/` alone.
 */
export async function copyRepository(clone: string, timeoutMs: number): Promise<void> {
  const listing = await runCommand('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root, timeoutMs);
  if (listing.status !== 0) throw new Error(`could not list the repository's files:\n${describeRun(listing)}`);
  for (const file of listing.stdout.split('\0')) {
    if (file === '' || !existsSync(join(root, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(root, file), join(clone, file));
  }
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
}

interface PackageJson {
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
}

export function readPackageJson(directory: string): PackageJson {
  return JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as PackageJson;
}

/** What an application gets in its node_modules besides safethread. */
export type Links =
  /** Every package of the repository's node_modules, `.bin` included, as a devDependency would be. */
  | { readonly all: true; readonly replace?: Readonly<Record<string, string>> }
  /** Only these packages and what they depend on. */
  | { readonly all: false; readonly packages: readonly string[] };

/**
 * Makes the application `name` in `directory`: the template folders copied in order (later ones
 * overwrite), safethread copied from the unpacked tarball, and links into the repository's
 * node_modules. `replace` links a name to another package of the repository's (`vitest` to
 * `vitest3`).
 */
export function makeApp(directory: string, folders: readonly string[], unpacked: string, links: Links): void {
  for (const folder of folders) cpSync(join(templates, folder), directory, { recursive: true });
  const modules = join(directory, 'node_modules');
  mkdirSync(modules, { recursive: true });
  cpSync(unpacked, join(modules, 'safethread'), { recursive: true });
  const repositoryModules = join(root, 'node_modules');
  if (links.all) {
    const replace = links.replace ?? {};
    for (const entry of readdirSync(repositoryModules)) {
      if (entry === 'safethread' || entry === '.package-lock.json') continue;
      symlinkSync(join(repositoryModules, replace[entry] ?? entry), join(modules, entry), 'dir');
    }
  } else {
    for (const name of links.packages) linkPackage(name, repositoryModules, modules);
  }
}

/** Links `name` and what it depends on (the repository's node_modules is flat for these). */
function linkPackage(name: string, from: string, modules: string): void {
  const target = join(modules, name);
  if (existsSync(target)) return;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(from, name), target, 'dir');
  for (const dependency of Object.keys(readPackageJson(join(from, name)).dependencies ?? {})) linkPackage(dependency, from, modules);
}
