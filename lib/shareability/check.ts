import { types } from 'node:util';
import { knownObjects } from './known-objects';
import { shareableClasses } from './shareable-classes';
import { isTransferMarker } from './transfer';
import { verifiedValues } from './verified-values';
import { withArticle } from './with-article';

/**
 * The shareability rules: which values may cross between threads.
 *
 * A value may cross when copying it and sharing it cannot be told apart: primitives, deeply
 * frozen plain objects and arrays, `@shareable` instances, and objects that protect themselves
 * (monitor references, tokens, channels, shared memory). Everything else is refused with the
 * path to the first offending part and the fix.
 *
 * A frozen value cannot change, so once a whole value is proven shareable every object in it is
 * remembered: checking it again, or any part of it, is a single WeakSet lookup.
 */

/** Where a value fails the rules: the path inside it, what was found there, and the fix. */
export interface Violation {
  readonly path: string;
  readonly what: string;
  readonly fix: string;
}

const FREEZE_FIX = 'pass freeze(value) or a frozen copy';
/** How deeply a value may nest: deeper values are refused, since every walk over them (this one, the copy, structured clone) recurses. */
export const MAX_DEPTH = 1000;
const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

/** A step of a path into a value: a property name, an array index or a symbol key. */
type PathSegment = string | number | symbol;

/**
 * Finds the first part of `value` that may not cross threads, or `undefined` when all of it may.
 *
 * @param wholeValue - true when `value` is a whole argument or result: only there may a
 *   `transfer()` marker stand, since moving a buffer out of a frozen tree would change the tree.
 */
export function findViolation(value: unknown, wholeValue = true): Violation | undefined {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? violationOfPrimitive(value, '') : undefined;
  }
  if (verifiedValues().has(value)) return undefined;
  return new ShareabilityWalk(wholeValue, false).check(value);
}

/**
 * Finds the first part of `value` that would still be refused once its plain objects and arrays
 * were frozen: what `freeze()` checks before it freezes anything. Remembers nothing.
 *
 * @param sealing - a `@shareable` instance whose constructor has just returned: judged as if
 *   frozen too (its decorator checks it, then freezes it)
 */
export function findViolationIfFrozen(value: unknown, sealing?: object): Violation | undefined {
  if (typeof value !== 'object' || value === null) return findViolation(value, false);
  if (verifiedValues().has(value)) return undefined;
  return new ShareabilityWalk(false, true, sealing).check(value);
}

class ShareabilityWalk {
  readonly #segments: PathSegment[] = [];
  /** Objects seen on this walk: they stop cycles, and are remembered if the whole value passes. */
  readonly #seen = new Set<object>();
  /** Whether the value holds anything structured clone cannot carry as it is (a reference, a @shareable instance). */
  #special = false;
  /** How many properties the value has in all: how large it is to send. */
  #size = 0;
  /** Objects whose properties are being walked, with their depth: meeting one again closes a cycle. */
  readonly #open = new Map<object, number>();
  /** Depths of the open `@shareable` instances, outermost first. */
  readonly #openInstances: number[] = [];
  /** How many levels below each walked object the value goes (verified parts included). */
  readonly #heights = new Map<object, number>();
  /** The deepest level reached under the object being walked. */
  #deepest = 0;

  /**
   * @param ifFrozen - judge plain objects and arrays as if they were frozen, and remember nothing (freeze()'s check before it freezes)
   * @param sealing - a `@shareable` instance judged as if frozen as well
   */
  constructor(
    readonly wholeValue: boolean,
    readonly ifFrozen: boolean,
    readonly sealing?: object,
  ) {}

  check(value: object): Violation | undefined {
    const found = this.#visit(value);
    if (found !== undefined) return found;
    if (this.ifFrozen) return undefined;
    const verified = verifiedValues();
    for (const object of this.#seen) verified.add(object, this.#heights.get(object) ?? 0);
    if (!this.#special) verified.addPlainData(value, this.#size);
    return undefined;
  }

  #visit(value: unknown): Violation | undefined {
    if (typeof value !== 'object' || value === null) {
      return typeof value === 'function' || typeof value === 'symbol' ? this.#violation(value) : undefined;
    }
    // A frozen cycle is fine: the object is checked where it was first met. A cycle through a
    // @shareable instance is not: the instance is made again from its fields on the other side.
    if (this.#seen.has(value)) {
      const openAt = this.#open.get(value);
      const innermost = this.#openInstances[this.#openInstances.length - 1];
      if (openAt !== undefined && innermost !== undefined && innermost >= openAt) {
        return this.#violation(value, 'a cycle through a @shareable instance', 'an instance is made again from its fields on the other thread, so it cannot contain itself; break the cycle');
      }
      // A part walked already, met again by another path: it nests as deep from here too, so that
      // every part's height holds wherever it is sent on its own (a cycle back to an open object adds nothing).
      const height = openAt === undefined ? this.#heights.get(value) : undefined;
      if (height !== undefined) {
        const reach = this.#segments.length + height;
        if (reach > MAX_DEPTH) return this.#tooDeep(reach);
        this.#deepest = Math.max(this.#deepest, reach);
      }
      return undefined;
    }
    const verified = verifiedValues();
    if (verified.has(value)) {
      const reach = this.#segments.length + verified.height(value);
      if (reach > MAX_DEPTH) return this.#tooDeep(reach);
      this.#deepest = Math.max(this.#deepest, reach);
      // A part verified earlier may hold references; only one known to be plain data keeps the whole plain.
      const size = verified.plainDataSize(value);
      if (size === undefined) this.#special = true;
      else this.#size += size;
      return undefined;
    }
    if (knownObjects().isSelfProtecting(value)) {
      this.#special = true;
      return this.#accept(value);
    }
    if (isTransferMarker(value)) {
      return this.#segments.length === 0 && this.wholeValue
        ? undefined
        : this.#violation(value, 'a transfer() marker inside another value', 'pass transfer(buffer) as a whole argument or result');
    }
    if (types.isProxy(value)) return this.#violation(value, 'a Proxy', 'pass the plain frozen value it wraps');
    // Shared memory must stay shared: a value holding it is never sent as serialized bytes.
    if (types.isSharedArrayBuffer(value)) {
      this.#special = true;
      return this.#accept(value);
    }
    if (ArrayBuffer.isView(value)) {
      if (types.isSharedArrayBuffer(value.buffer)) this.#special = true;
      return types.isSharedArrayBuffer(value.buffer)
        ? this.#accept(value)
        : this.#violation(value, `${withArticle(value.constructor.name)} over an ordinary ArrayBuffer`, 'view a SharedArrayBuffer to share memory, or pass transfer(view.buffer) to move it');
    }
    if (types.isArrayBuffer(value)) {
      return this.#violation(value, 'an ArrayBuffer', 'pass transfer(buffer) to move it, or use a SharedArrayBuffer to share it');
    }
    const builtin = neverShareable(value);
    if (builtin !== undefined) return this.#violation(value, `${withArticle(builtin)} (not shareable even when frozen)`, fixFor(builtin));
    if (knownObjects().isMonitorInstance(value)) {
      return this.#violation(value, 'a monitor instance itself (`this` inside a monitor)', 'the instance never leaves its monitor; pass a monitor reference instead');
    }

    if (isPrototypeObject(value)) {
      return this.#violation(value, 'a prototype object (such as Object.prototype)', 'prototypes are shared by every object of a kind and are never frozen or sent; pass a plain copy of the data');
    }
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (Array.isArray(value) && isArrayPrototype(prototype)) return this.#visitArray(value);
    if (isPlainPrototype(prototype)) {
      // Structured clone would give it Object.prototype: it crosses with its path listed, never as plain data.
      if (prototype === null) this.#special = true;
      return this.#visitRecord(value, 'object');
    }
    const constructor = (prototype as { constructor?: Function }).constructor as Function;
    const shareable = shareableClasses().planOf(constructor);
    if (shareable !== undefined && shareable.original === constructor && shareable.decorated !== constructor && !Object.isFrozen(value)) {
      // Built inside its own class body by a compiler that binds the class's name there before the
      // decorator replaced it (esbuild with TC39 decorators, swc with legacy ones): the decorator
      // never froze it, so it is frozen here, before it can cross, and its fields judged as usual.
      Object.freeze(value);
    }
    if (shareable !== undefined && (shareable.decorated === constructor || shareable.original === constructor)) {
      if (!Object.isFrozen(value) && value !== this.sealing) {
        return this.#violation(value, `a ${shareable.className} still under construction`, `a @shareable instance may cross threads once its constructor has returned`);
      }
      this.#special = true;
      this.#openInstances.push(this.#segments.length);
      const found = this.#visitRecord(value, shareable.className);
      this.#openInstances.pop();
      return found;
    }
    const className = (prototype as { constructor?: { name?: string } }).constructor?.name;
    if (!className) return this.#violation(value, 'an instance of an anonymous class, which is not @shareable', 'mark the class @shareable, or pass a frozen plain copy');
    return this.#violation(value, `an instance of class ${className}, which is not @shareable`, `mark ${className} @shareable, or pass a frozen plain copy`);
  }

  #visitArray(array: readonly unknown[]): Violation | undefined {
    if (!this.ifFrozen && !Object.isFrozen(array)) return this.#violation(array, 'a mutable Array', FREEZE_FIX);
    return this.#visitProperties(array);
  }

  #visitRecord(record: object, kind: string): Violation | undefined {
    if (!Object.isFrozen(record) && !(this.ifFrozen && kind === 'object') && record !== this.sealing) {
      return this.#violation(record, kind === 'object' ? 'a mutable object' : `a mutable ${kind}`, FREEZE_FIX);
    }
    return this.#visitProperties(record);
  }

  /**
   * Checks every own property of a frozen record or array through its descriptor, so that a
   * getter is refused without being run, and nothing (an extra array property, a symbol key)
   * escapes the check.
   */
  #visitProperties(object: object): Violation | undefined {
    this.#seen.add(object);
    const depth = this.#segments.length;
    if (depth > MAX_DEPTH) return this.#tooDeep(depth);
    const outerDeepest = this.#deepest;
    this.#deepest = depth;
    this.#open.set(object, depth);
    const found = this.#visitEachProperty(object);
    if (found !== undefined) return found;
    this.#open.delete(object);
    this.#heights.set(object, this.#deepest - depth);
    this.#deepest = Math.max(outerDeepest, this.#deepest);
    return undefined;
  }

  #visitEachProperty(object: object): Violation | undefined {
    const isArray = Array.isArray(object);
    const keys = Reflect.ownKeys(object);
    this.#size += keys.length;
    for (const key of keys) {
      if (isArray && key === 'length') continue;
      const descriptor = Object.getOwnPropertyDescriptor(object, key) as PropertyDescriptor;
      if (typeof key === 'symbol') {
        this.#segments.push(key);
        return this.#violation(object, 'a symbol-keyed property', 'symbols cannot cross threads; use a string key');
      }
      const index = isArray && ARRAY_INDEX.test(key);
      this.#segments.push(index ? Number(key) : key);
      if (key === '__proto__') {
        return this.#violation(object, 'an own "__proto__" property', 'it would be read as a prototype on the other side; rename the key');
      }
      if (descriptor.get !== undefined || descriptor.set !== undefined) {
        return this.#violation(object, 'an accessor property (getter or setter)', 'store the value as a plain data property');
      }
      if (!descriptor.enumerable) {
        return this.#violation(object, 'a non-enumerable property', 'it would be lost on the way to another thread; make it an ordinary (enumerable) property');
      }
      const value: unknown = descriptor.value;
      // Primitives are the common case in large values; skip the call for them.
      if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol') {
        // The receiver walks arrays by index when they come as plain data: one with an object in
        // a named property comes as a walked copy, whose arrays it walks by key (threads/serialize.ts).
        if (isArray && !index) this.#special = true;
        const found = this.#visit(value);
        if (found !== undefined) return found;
      }
      this.#segments.pop();
    }
    return undefined;
  }

  #tooDeep(depth: number): Violation {
    const shown = formatPath(this.#segments.slice(0, 4));
    return {
      path: `${shown}... (${depth} levels down)`,
      what: `nested more than ${MAX_DEPTH} levels deep`,
      fix: 'flatten it (e.g. a frozen array of nodes that refer to each other by index), or send it in parts',
    };
  }

  #accept(value: object): undefined {
    this.#seen.add(value);
    return undefined;
  }

  #violation(value: unknown, what?: string, fix?: string): Violation {
    if (what === undefined || fix === undefined) return violationOfPrimitive(value, formatPath(this.#segments));
    return { path: formatPath(this.#segments), what, fix };
  }
}

/**
 * Whether an object with this prototype is a plain record: `Object.prototype` of this or of
 * another realm (values that arrive by postMessage under jest's vm context have the outer
 * realm's), or `null`.
 */
export function isPlainPrototype(prototype: object | null): boolean {
  if (prototype === Object.prototype || prototype === null) return true;
  if (Object.getPrototypeOf(prototype) !== null) return false;
  const constructor = (prototype as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor.name === 'Object' && constructor.prototype === prototype;
}

/**
 * Whether `value` is the prototype of a class or built-in (`Object.prototype`, `Array.prototype`,
 * a class's `.prototype`): an own data property `constructor` whose `prototype` is `value`.
 */
export function isPrototypeObject(value: object): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(value, 'constructor');
  if (descriptor === undefined || !('value' in descriptor)) return false;
  const constructor: unknown = descriptor.value;
  if (typeof constructor !== 'function') return false;
  const own = Object.getOwnPropertyDescriptor(constructor, 'prototype');
  return own !== undefined && own.value === value;
}

/** Whether this is `Array.prototype` of this or another realm. */
export function isArrayPrototype(prototype: object | null): boolean {
  return prototype === Array.prototype || (Array.isArray(prototype) && isPlainPrototype(Object.getPrototypeOf(prototype) as object | null));
}

function violationOfPrimitive(value: unknown, path: string): Violation {
  if (typeof value === 'symbol') return { path, what: 'a symbol', fix: 'symbols cannot cross threads; pass a string instead' };
  const name = (value as Function).name;
  return {
    path,
    what: name ? `a function (${name})` : 'a function',
    fix: 'functions cannot cross threads; pass data, a monitor reference, or register the function with task()',
  };
}

/** Built-in kinds that are refused even frozen: freezing them does not freeze their contents. */
function neverShareable(value: object): string | undefined {
  if (types.isMap(value)) return 'Map';
  if (types.isSet(value)) return 'Set';
  if (types.isWeakMap(value)) return 'WeakMap';
  if (types.isWeakSet(value)) return 'WeakSet';
  if (types.isDate(value)) return 'Date';
  if (types.isRegExp(value)) return 'RegExp';
  if (types.isPromise(value)) return 'Promise';
  if (value instanceof WeakRef) return 'WeakRef';
  if (types.isNativeError(value)) return 'Error';
  return undefined;
}

export function fixFor(builtin: string): string {
  switch (builtin) {
    case 'Map':
      return 'pass a frozen plain object, or a frozen array of [key, value] pairs';
    case 'Set':
      return 'pass a frozen array of its values';
    case 'Date':
      return 'pass date.getTime() or date.toISOString()';
    case 'RegExp':
      return 'pass its source string and flags';
    case 'Promise':
      return 'await it and pass the result';
    case 'Error':
      return 'throw it from the monitor method instead, or pass its message';
    case 'Symbol':
      return 'symbols cannot cross threads; pass a string instead';
    case 'Function':
      return 'functions cannot cross threads; pass data, a monitor reference, or register the function with task()';
    default:
      return 'pass a frozen plain copy of the data it holds';
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Formats a path the way it would be written in code: `.items[3].tags`, `["odd key"]`, `[Symbol(id)]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (typeof segment === 'symbol') path += `[${String(segment)}]`;
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  return path;
}
