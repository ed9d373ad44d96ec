import { DefinitionError } from '../errors/definition-error';
import { callerFile, loadModule } from '../threads/module-loader';
import type { ClassLocation } from '../threads/protocol';

/**
 * Where a decorated class can be found on another thread: the module that defined it (read off
 * the call stack when the decorator ran) and its name. A thread that meets a class it does not
 * know loads that module, whose decorators then register the class there under the same key.
 */
export function classLocation(className: string): ClassLocation {
  const file = callerFile() ?? '(unknown module)';
  return { file, key: `${file}#${className}`, className };
}

export function findClass<P>(location: ClassLocation, byKey: ReadonlyMap<string, P>, decorator: string): P {
  let plan = byKey.get(location.key);
  if (plan === undefined) {
    loadModule(location.file);
    plan = byKey.get(location.key);
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
