import type { TransferListItem } from 'node:worker_threads';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { isArrayPrototype, isPlainPrototype } from '../shareability/check';
import { freezeDeeply } from '../shareability/freeze';
import { verifiedValues } from '../shareability/verified-values';
import { codecs } from './codec-registry';
import type { Encoded, Special, SpecialMarker } from './protocol';

/**
 * Values on their way between threads.
 *
 * Every value has passed the shareability check before it gets here. Plain data goes by
 * structured clone as it is; a large plain value is serialized once and the bytes shared by every
 * later send. Tokens, channels, monitor references and `@shareable` instances cannot go by
 * structured clone, so they travel beside the data as markers with the path where they belong
 * (never inside it, so no user data can pose as one); their codecs (codec-registry.ts) make and
 * read the markers. What arrives is frozen again and remembered as verified: the receiver holds a
 * value that behaves exactly like the sender's.
 */

/** Plain values with at least this many properties are serialized once and the bytes reused. */
const SERIALIZE_ONCE_FROM = 4096;

export function encodeAll(values: readonly unknown[], transfer: TransferListItem[]): Encoded[] {
  return values.map((value) => encode(value, transfer));
}

export function encode(value: unknown, transfer: TransferListItem[]): Encoded {
  if (typeof value !== 'object' || value === null) return { plain: value };
  if (types.isArrayBuffer(value)) {
    // Only a whole argument or result can be a buffer here: transfer(buffer) made it one.
    transfer.push(value);
    return { moved: value };
  }
  const size = verifiedValues().plainDataSize(value);
  if (size !== undefined) return size >= SERIALIZE_ONCE_FROM ? serializedOnce(value) : { plain: value };
  const specials: Special[] = [];
  const copy = new CopyWithout(specials).copy(value, []);
  return specials.length === 0 ? { plain: value } : { value: copy, specials };
}

function serializedOnce(value: object): Encoded {
  const verified = verifiedValues();
  let cached = verified.serialized(value);
  if (cached === undefined) {
    const bytes = serialize(value);
    const shared = new SharedArrayBuffer(bytes.length);
    new Uint8Array(shared).set(bytes);
    cached = { bytes: shared, length: bytes.length };
    verified.addSerialized(value, cached);
  }
  return cached;
}

/**
 * `value` walked for special values as a new copy, never sent whole as verified plain data: the
 * fields of a `@shareable` instance, gathered into a new object by its codec.
 */
export function encodeWalked(value: object): Encoded {
  const specials: Special[] = [];
  const copy = new CopyWithout(specials).copy(value, []);
  return specials.length === 0 ? { plain: copy } : { value: copy, specials };
}

/**
 * A copy of a value with every special value (one a codec claims) replaced by null and its marker
 * listed in `specials` with the path where it belongs. The copy keeps the value's shape: an object
 * reached twice is copied once (so cycles and shared parts stay as they are), a special value
 * reached twice lists the same marker twice (so it arrives as one object), and arrays keep their
 * holes and named properties.
 */
class CopyWithout {
  readonly #copies = new Map<object, unknown>();
  readonly #markers = new Map<object, SpecialMarker>();

  constructor(readonly specials: Special[]) {}

  copy(value: unknown, path: (string | number)[]): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (verifiedValues().isPlainData(value)) return value;
    const marked = this.#markers.get(value);
    if (marked !== undefined) return this.#mark(value, marked, path);
    if (this.#copies.has(value)) return this.#copies.get(value);
    const registry = codecs();
    const claimed = registry.claimBeforeWalking(value);
    if (claimed !== undefined) return this.#mark(value, claimed, path);
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (Array.isArray(value) && isArrayPrototype(prototype)) {
      const copy: unknown[] = new Array<unknown>(value.length);
      this.#copies.set(value, copy);
      for (const key of Object.keys(value)) {
        const step = ARRAY_INDEX.test(key) ? Number(key) : key;
        (copy as unknown as Record<string, unknown>)[key] = this.copy((value as unknown as Record<string, unknown>)[key], [...path, step]);
      }
      return copy;
    }
    if (isPlainPrototype(prototype)) {
      const copy: Record<string, unknown> = {};
      this.#copies.set(value, copy);
      for (const key of Object.keys(value)) copy[key] = this.copy((value as Record<string, unknown>)[key], [...path, key]);
      return copy;
    }
    const claimedByClass = registry.claimAfterWalking(value);
    if (claimedByClass !== undefined) return this.#mark(value, claimedByClass, path);
    // Shared memory and its views go by structured clone as they are.
    this.#copies.set(value, value);
    return value;
  }

  #mark(value: object, marker: SpecialMarker, path: readonly (string | number)[]): null {
    this.#markers.set(value, marker);
    this.specials.push({ path: [...path], marker });
    return null;
  }
}

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

export function decodeAll(values: readonly Encoded[]): unknown[] {
  return values.map(decode);
}

export function decode(encoded: Encoded): unknown {
  if ('plain' in encoded) return settle(encoded.plain, true);
  if ('moved' in encoded) return encoded.moved;
  if ('bytes' in encoded) return settle(deserialize(Buffer.from(encoded.bytes, 0, encoded.length)), true);
  let value = encoded.value;
  // The same marker listed twice is one special value reached twice: it arrives as one object.
  const revivedByMarker = new Map<SpecialMarker, unknown>();
  for (const { path, marker } of encoded.specials) {
    let revived = revivedByMarker.get(marker);
    if (revived === undefined && !revivedByMarker.has(marker)) {
      revived = codecs().decode(marker);
      revivedByMarker.set(marker, revived);
    }
    if (path.length === 0) value = revived;
    else setAt(value, path, revived);
  }
  return settle(value, false);
}

/** Steps a path may never take: they would reach or replace a prototype instead of the value's own data. */
const FORBIDDEN_STEPS: ReadonlySet<unknown> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Puts a special value where its marker's path says, inside the value that arrived. The path must
 * lead through the value's own properties: a crafted one (through `__proto__`, `constructor`,
 * `prototype`, or out of the value) is refused, so no message can write to a prototype.
 */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let parent = root;
  for (let index = 0; index < path.length; index++) {
    const step = path[index];
    const isObject = typeof parent === 'object' && parent !== null;
    if ((typeof step !== 'string' && typeof step !== 'number') || FORBIDDEN_STEPS.has(step) || !isObject) {
      throw new TypeError(`safethread: a value arrived with a special value at the path ${JSON.stringify(path)}, which does not lead through its own data; it was refused (a path may not step through __proto__, constructor or prototype)`);
    }
    if (index === path.length - 1) {
      (parent as Record<string | number, unknown>)[step] = value;
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(parent, step)) {
      throw new TypeError(`safethread: a value arrived with a special value at the path ${JSON.stringify(path)}, which does not lead through its own data; it was refused`);
    }
    parent = (parent as Record<string | number, unknown>)[step];
  }
}

/**
 * Freezes what arrived and remembers it as verified, so it is shareable onwards at no cost; plain
 * data is remembered as such, with a rough size, so that sending it on takes the fast path.
 */
function settle(value: unknown, plain: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = new Set<object>();
  freezeDeeply(value, seen, true);
  const verified = verifiedValues();
  let size = 0;
  for (const object of seen) {
    verified.add(object);
    size += Array.isArray(object) ? object.length : 1;
  }
  if (plain && seen.has(value)) verified.addPlainData(value, size);
  return value;
}
