import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { warningMessages } from '../errors/codes';
import { slot, thisThread } from '../runtime';
import { loadingModule } from './loading-module';

/**
 * The warning for work started by a module while a worker loads it.
 *
 * A worker loads the user's module to find a task or class there ({@link loadingModule} names
 * it meanwhile). A branch or spawn started then is a top-level side effect of that module,
 * which every thread that loads it repeats: almost always a program file that also defines tasks
 * or classes and lacks its "am I the program" guard. The warning names the guard for the
 * module's kind. Node prints it on stderr, and a worker's stderr reaches the process's.
 */

/** What was started, as the warning says it. */
export type TopLevelStart = 'a branch' | 'an actor (spawn)' | 'a background child';

/** Modules already warned about on this thread: one warning per module. Only `warnTopLevelStart` reads and writes them. */
const warnedModules = slot('modules warned of a top-level start', () => new Set<string>());

/** Warns, once per module and thread, that `started` began while this thread loaded a module of the user's. */
export function warnTopLevelStart(started: TopLevelStart): void {
  const file = loadingModule();
  const warned = warnedModules();
  if (file === undefined || warned.has(file)) return;
  warned.add(file);
  process.emitWarning(warningMessages.SAFETHREAD_TOP_LEVEL_START(file, started, thisThread().id === 0 ? 'the main thread' : thisThread().name, guardFor(file)), { code: 'SAFETHREAD_TOP_LEVEL_START' });
}

/** How a module of this kind tells that it runs as the program, not loaded by another module or thread. */
function guardFor(file: string): string {
  return isESModule(file)
    ? 'wrap it in `if (import.meta.filename === process.argv[1]) { ... }`'
    : 'wrap it in `if (require.main === module) { ... }`';
}

/** Whether Node takes `file` for an ES module: by its extension, else by the nearest package.json's `type`. */
function isESModule(file: string): boolean {
  const extension = extname(file);
  if (extension === '.mjs' || extension === '.mts') return true;
  if (extension === '.cjs' || extension === '.cts') return false;
  for (let folder = dirname(file); ; folder = dirname(folder)) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(folder) === folder) return false;
  }
}
