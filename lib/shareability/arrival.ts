import { types } from 'node:util';
import { formatPath, isArrayPrototype, isPlainPrototype, MAX_DEPTH, type Violation } from './check';
import { knownObjects } from './known-objects';
import { verifiedValues } from './verified-values';

/**
 * Values that arrive from another thread, made ready to use: frozen all the way down and
 * remembered as verified, each object with how deeply it nests, so that a value that arrived and
 * is sent on inside others is held to the same depth limit as one made here.
 *
 * The sending thread checked the value, but any code on a worker can post on safethread's port:
 * so the walk is a loop, never a recursion, and a value nested deeper than a checked value can be
 * is refused before anything uses it, instead of overflowing this thread's stack.
 */

/** An object whose properties the walk is going through. */
interface OpenObject {
  readonly object: object;
  /** Its keys; undefined for an array walked by index (structured clone gives arrays no accessors). */
  readonly keys: readonly string[] | undefined;
  next: number;
  readonly depth: number;
  /** The deepest level reached below it so far. */
  deepest: number;
}

/**
 * Freezes a value that arrived and remembers every part of it as verified, with its height;
 * returns where it nests too deeply instead, having remembered nothing.
 *
 * @param plainData - it arrived as plain data (nothing special inside): it is remembered as such,
 *   with its size, so that sending it on takes the fast path
 * @param arraysByKey - walk arrays by key, not by index: they may hold objects in named
 *   properties (plain data never does: the check sends such a value as a walked copy)
 */
export function settleArrived(root: object, plainData: boolean, arraysByKey = false): Violation | undefined {
  const verified = verifiedValues();
  const known = knownObjects();
  const seen = new Set<object>();
  /** Plain objects and arrays closed (frozen), with the height of each. */
  const settled = new Map<object, number>();
  const open: OpenObject[] = [];
  /** The steps to the innermost open object: one fewer than there are open objects. */
  const path: (string | number)[] = [];
  let plain = plainData;
  let size = 0;

  /** Opens `value` (met `depth` levels down) when it is an object to walk; else takes what is known of it. */
  const meet = (value: object, depth: number): Violation | undefined => {
    const parent = open[open.length - 1];
    if (seen.has(value)) {
      // Met again by another path: it nests as deep from here too (as the check counts it); a
      // cycle back to an object still open adds nothing.
      const height = settled.get(value);
      if (height === undefined) return undefined;
      if (depth + height > MAX_DEPTH) return tooDeep(path, depth + height);
      if (parent !== undefined && depth + height > parent.deepest) parent.deepest = depth + height;
      return undefined;
    }
    if (verified.has(value)) {
      // A part proven earlier: a revived @shareable instance, or memory the value shares.
      const reach = depth + verified.height(value);
      if (reach > MAX_DEPTH) return tooDeep(path, reach);
      if (parent !== undefined && reach > parent.deepest) parent.deepest = reach;
      const partSize = verified.plainDataSize(value);
      if (partSize === undefined) plain = false;
      else size += partSize;
      return undefined;
    }
    if (known.isSelfProtecting(value)) {
      plain = false;
      return undefined;
    }
    seen.add(value);
    const prototype = Object.getPrototypeOf(value) as object | null;
    const isArray = Array.isArray(value) && isArrayPrototype(prototype);
    if (!isArray && !isPlainPrototype(prototype)) {
      // Shared memory and its views: a value holding them is never sent as serialized bytes.
      if (types.isSharedArrayBuffer(value) || ArrayBuffer.isView(value)) plain = false;
      return undefined;
    }
    if (depth > MAX_DEPTH) return tooDeep(path, depth);
    open.push({ object: value, keys: isArray && !arraysByKey ? undefined : Object.keys(value), next: 0, depth, deepest: depth });
    return undefined;
  };

  const refused = meet(root, 0);
  if (refused !== undefined) return refused;
  while (open.length > 0) {
    const current = open[open.length - 1] as OpenObject;
    // The next property that holds an object; primitives, the most of a large value, are passed in a tight loop.
    let child: object | undefined;
    let step: string | number = 0;
    let next = current.next;
    if (current.keys === undefined) {
      const array = current.object as readonly unknown[];
      for (const length = array.length; next < length; next++) {
        const element = array[next];
        if (typeof element === 'object' && element !== null) {
          child = element;
          step = next++;
          break;
        }
      }
    } else {
      const keys = current.keys;
      const record = current.object as Record<string, unknown>;
      for (const length = keys.length; next < length; next++) {
        const value = record[keys[next] as string];
        if (typeof value === 'object' && value !== null) {
          child = value;
          step = keys[next++] as string;
          if (Array.isArray(current.object) && ARRAY_INDEX.test(step)) step = Number(step);
          break;
        }
      }
    }
    current.next = next;
    if (child === undefined) {
      // Every property seen: the object is closed, frozen, and its height known.
      open.pop();
      path.pop();
      Object.freeze(current.object);
      settled.set(current.object, current.deepest - current.depth);
      size += current.keys?.length ?? (current.object as readonly unknown[]).length;
      const parent = open[open.length - 1];
      if (parent !== undefined && current.deepest > parent.deepest) parent.deepest = current.deepest;
      continue;
    }
    const opened = open.length;
    path.push(step);
    const found = meet(child, current.depth + 1);
    if (found !== undefined) return found;
    if (open.length === opened) path.pop();
  }
  for (const [object, height] of settled) verified.add(object, height);
  if (plain && settled.has(root)) verified.addPlainData(root, size);
  return undefined;
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

function tooDeep(path: readonly (string | number)[], depth: number): Violation {
  return {
    path: `${formatPath(path.slice(0, 4))}... (${depth} levels down)`,
    what: `nested more than ${MAX_DEPTH} levels deep`,
    fix: 'every thread checks what it sends, so this was posted past that check (on safethread\'s port) or is a part of a cycle sent on its own; it was refused unread: send values through safethread, flattened or in parts',
  };
}
