import { isAbsolute, sep } from 'node:path';
import { types } from 'node:util';
import { slot } from '../runtime';
import { loadModule } from './module-loader';
import type { ErrorClassLocation } from './wire-types';

/**
 * Where a user's error class is found on another thread.
 *
 * safethread's own error classes and the platform's are known on every thread. A user's class
 * (`export class PaymentError extends Error {}`) is found the way tasks and `@shareable` classes
 * are: through the module that defines it. The thread that throws looks once per class for a
 * loaded CommonJS module that exports it; the thread that receives takes that export from the
 * same module, loading the module there when it is not loaded yet.
 *
 * Both look in `require.cache`, which under jest is jest's own module registry: a class a spec
 * imported is found there as the very class the spec holds, and a module loaded to find one goes
 * into that registry too (as long as `loadModule` loads through this module system's `require`).
 * A class no loaded module exports (not exported, defined inside a function, from an ES module,
 * or from a module jest isolated with `jest.isolateModules`) has no location; its errors arrive
 * as before, as an `Error` named after the class.
 */

/** What one thread learned about error classes. */
interface ErrorClasses {
  /** Each class met here, and the module that exports it (`null`: no loaded module does). */
  readonly locations: WeakMap<Function, ErrorClassLocation | null>;
  /** The classes known here by identity, by location: preferred to anything found by loading. */
  readonly byLocation: Map<string, Function>;
  /** Locations whose module failed to load here or exported no error class there: not loaded again. */
  readonly unresolved: Set<string>;
}

const NODE_MODULES = `${sep}node_modules${sep}`;

/**
 * The module that exports `Class`, found among the loaded modules once per class, or `undefined`
 * when none does. Never throws.
 */
export function locateErrorClass(Class: Function): ErrorClassLocation | undefined {
  const classes = errorClasses();
  let location = classes.locations.get(Class);
  if (location === undefined) {
    location = safely(() => searchLoadedModules(Class)) ?? null;
    classes.locations.set(Class, location);
    if (location !== null) classes.byLocation.set(keyOf(location), Class);
  }
  return location ?? undefined;
}

/**
 * The error class at `location` on this thread: one already known here, else the export of the
 * loaded module, else of the module loaded now. `undefined` when there is none. Never throws.
 */
export function findErrorClass(location: ErrorClassLocation): Function | undefined {
  return safely(() => {
    const classes = errorClasses();
    const key = keyOf(location);
    let Class = classes.byLocation.get(key) ?? exportedErrorClass(location);
    if (Class === undefined && !classes.unresolved.has(key) && isAbsolute(location.file)) {
      try {
        loadModule(location.file);
      } catch {
        // A module that cannot load here leaves the class unknown; the error still arrives.
      }
      Class = exportedErrorClass(location);
    }
    if (Class === undefined) {
      classes.unresolved.add(key);
      return undefined;
    }
    classes.byLocation.set(key, Class);
    if (!classes.locations.has(Class)) classes.locations.set(Class, location);
    return Class;
  });
}

/** This thread's error classes, made on first use; only this module reads and writes them. */
const errorClasses = slot<ErrorClasses>('error classes', () => ({ locations: new WeakMap(), byLocation: new Map(), unresolved: new Set() }));

function keyOf(location: ErrorClassLocation): string {
  return location.exportName === undefined ? location.file : `${location.file}#${location.exportName}`;
}

function exportedErrorClass({ file, exportName }: ErrorClassLocation): Function | undefined {
  return safely(() => {
    const exports: unknown = require.cache[file]?.exports;
    const value: unknown = exportName === undefined ? exports : isObject(exports) ? (exports as Record<string, unknown>)[exportName] : undefined;
    return typeof value === 'function' && value.prototype instanceof Error ? value : undefined;
  });
}

/**
 * Looks through the exports of every loaded module, first reading only data properties (which
 * runs no code: `module.exports = X`, and tsc's `exports.X = X`), then the getters of the program's
 * own modules (tsx, esbuild and swc compile `export class X` to one). A package's getter may load
 * code or print a deprecation warning, so packages are searched by their data properties only.
 */
function searchLoadedModules(Class: Function): ErrorClassLocation | undefined {
  const modules = loadedModules();
  for (const [file, exports] of modules) {
    if (exports === Class) return { file };
    const exportName = safely(() => exportHolding(exports, Class, false));
    if (exportName !== undefined) return { file, exportName };
  }
  for (const [file, exports] of modules) {
    if (file.includes(NODE_MODULES)) continue;
    const exportName = safely(() => exportHolding(exports, Class, true));
    if (exportName !== undefined) return { file, exportName };
  }
  return undefined;
}

/** Each loaded module's file and exports, leaving out exports that are not objects or are proxies. */
function loadedModules(): (readonly [string, object])[] {
  const cache = require.cache;
  const modules: (readonly [string, object])[] = [];
  for (const file of Object.keys(cache)) {
    const exports: unknown = safely(() => cache[file]?.exports);
    if (isObject(exports) && !types.isProxy(exports)) modules.push([file, exports]);
  }
  return modules;
}

/** The name of an own enumerable property of `exports` holding `Class`. */
function exportHolding(exports: object, Class: Function, readGetters: boolean): string | undefined {
  for (const key of Object.keys(exports)) {
    const descriptor = Object.getOwnPropertyDescriptor(exports, key);
    if (descriptor === undefined) continue;
    const { get } = descriptor;
    const value: unknown = 'value' in descriptor ? descriptor.value : readGetters && get !== undefined ? safely(() => get.call(exports)) : undefined;
    if (value === Class) return key;
  }
  return undefined;
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
