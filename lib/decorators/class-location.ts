import { DefinitionError } from '../errors/definition-error';
import { slot } from '../runtime';
import { callerFile, loadModule } from '../threads/module-loader';
import type { ClassLocation } from '../threads/protocol';

/**
 * Where a decorated class can be found on another thread: the module that defined it (read off
 * the call stack when the decorator ran), its name, and its position among the file's decorated
 * classes. A thread that meets a class it does not know loads that module, whose decorators then
 * register the class there under the same keys.
 */
export function classLocation(className: string): ClassLocation {
  const file = callerFile() ?? '(unknown module)';
  return { file, key: `${file}#${className}`, className, ordinal: classPositions().next(file) };
}

/**
 * How many decorated classes each file has registered so far. A module registers in the same order
 * on every thread, so the position finds a class even when a compiler renamed it on one thread and
 * not on another.
 */
class ClassPositions {
  readonly #counts = new Map<string, number>();

  /** The position of the next class `file` registers. */
  next(file: string): number {
    const ordinal = this.#counts.get(file) ?? 0;
    this.#counts.set(file, ordinal + 1);
    return ordinal;
  }
}

const classPositions = slot('class positions', () => new ClassPositions());

/** The keys a class is registered under: by position, which survives renaming, and by name. */
export function classKeys(location: ClassLocation): readonly string[] {
  return [positionKey(location), location.key];
}

function positionKey(location: ClassLocation): string {
  return `${location.file}#@${location.ordinal}`;
}

export function findClass<P>(location: ClassLocation, byKey: ReadonlyMap<string, P>, decorator: string): P {
  let plan = lookUp(location, byKey);
  if (plan === undefined) {
    loadModule(location.file);
    plan = lookUp(location, byKey);
  }
  if (plan === undefined) {
    throw new DefinitionError(
      'ERR_NOT_PORTABLE_FUNCTION',
      `${decorator} class ${location.className}`,
      `loading ${location.file} on this thread did not define it; define the class at the top level of its module, under the same name`,
    );
  }
  return plan;
}

/**
 * By position first: a module registers in the same order everywhere. A module that ran twice on
 * the sending thread (a test runner's fresh module registry) sent a position past this thread's
 * count, and its name finds it.
 */
function lookUp<P>(location: ClassLocation, byKey: ReadonlyMap<string, P>): P | undefined {
  return byKey.get(positionKey(location)) ?? byKey.get(location.key);
}
