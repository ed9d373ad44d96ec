import type { TransferListItem } from 'node:worker_threads';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { ShareabilityError } from '../errors/shareability-error';
import { thisThread } from '../runtime';
import { settleArrived } from '../shareability/arrival';
import { isArrayPrototype, isPlainPrototype } from '../shareability/check';
import { verifiedValues } from '../shareability/verified-values';
import { codecs, type NestedDecoding, type NestedEncoding } from './codec-registry';
import type { Encoded, Special, SpecialMarker } from './protocol';

/**
 * Values on their way between threads.
 *
 * Every value has passed the shareability check before it gets here. Plain data goes by
 * structured clone as it is; a large plain value is serialized once and the bytes shared by every
 * later send. Tokens, channels, monitor references and `@shareable` instances cannot go by
 * structured clone, so they travel beside the data as markers with the path where they belong
 * (never inside it, so no user data can pose as one); their codecs (codec-registry.ts) make and
 * read the markers, and objects without a prototype are listed by path too (structured clone gives
 * every object one). What arrives is frozen again and remembered as verified, with how deeply it
 * nests: the receiver holds a value that behaves exactly like the sender's. A value no checked one
 * could be (nested past the depth limit) is refused on arrival, by a walk that never recurses.
 */

/** Plain values with at least this many properties are serialized once and the bytes reused. */
const SERIALIZE_ONCE_FROM = 4096;

/** How an error names a value that arrived on this thread. */
function arrivedHere(): string {
  return `a value that arrived on ${thisThread().id === 0 ? 'the main thread' : thisThread().name}`;
}

const TOO_DEEP_FIX = 'every thread checks what it sends, so this was posted past that check (on safethread\'s port) or is a part of a cycle sent on its own; it was refused unread: send values through safethread, flattened or in parts';

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
  return new Encoding().encodeWhole(value);
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
  return new Encoding().encode(value);
}

type Path = (string | number)[];

/**
 * One value on its way out: a copy with every special value (one a codec claims) replaced by null
 * and its marker listed in `specials` with the path where it belongs, and the paths of the objects
 * that have no prototype listed too. The copy keeps the value's shape: an object reached twice is
 * copied once (so cycles and shared parts stay as they are), a special value reached twice lists
 * the same marker twice (so it arrives as one object), and arrays keep their holes and named
 * properties.
 *
 * The values a codec carries inside its marker (a `@shareable` instance's fields) are encoded by
 * the same Encoding, and the whole goes in one message: an object the instance shares with the
 * rest of the value is copied once, and structured clone keeps it one object on the way.
 */
class Encoding implements NestedEncoding {
  readonly #copies = new Map<object, unknown>();
  readonly #markers = new Map<object, SpecialMarker>();
  /** The lists of the Encoded being made now (a codec's nested one, while it is made). */
  #specials: Special[] = [];
  #nullPrototypes: Path[] = [];
  /** Whether an array met holds an object in a named property: the receiver must then walk its arrays by key. */
  #namedObjects = false;

  /** `value` as it travels, sent as it is when nothing in it needs the copy. */
  encodeWhole(value: object): Encoded {
    return this.#encode(value, false);
  }

  /** `value` as a new copy, for a codec to carry inside its marker. */
  encode(value: object): Encoded {
    return this.#encode(value, true);
  }

  #encode(value: object, copyAlways: boolean): Encoded {
    const outerSpecials = this.#specials;
    const outerNullPrototypes = this.#nullPrototypes;
    const specials: Special[] = (this.#specials = []);
    const nullPrototypes: Path[] = (this.#nullPrototypes = []);
    let copy: unknown;
    try {
      copy = this.#copy(value, []);
    } finally {
      this.#specials = outerSpecials;
      this.#nullPrototypes = outerNullPrototypes;
    }
    if (nullPrototypes.length > 0) return { value: copy, specials, nullPrototypes };
    if (specials.length > 0 || this.#namedObjects) return { value: copy, specials };
    return { plain: copyAlways ? copy : value };
  }

  #copy(value: unknown, path: Path): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (verifiedValues().isPlainData(value)) return value;
    const marked = this.#markers.get(value);
    if (marked !== undefined) return this.#mark(value, marked, path);
    if (this.#copies.has(value)) return this.#copies.get(value);
    const registry = codecs();
    const claimed = registry.claimBeforeWalking(value, this);
    if (claimed !== undefined) return this.#mark(value, claimed, path);
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (Array.isArray(value) && isArrayPrototype(prototype)) {
      const copy: unknown[] = new Array<unknown>(value.length);
      this.#copies.set(value, copy);
      for (const key of Object.keys(value)) {
        const index = ARRAY_INDEX.test(key);
        const element = (value as unknown as Record<string, unknown>)[key];
        if (!index && typeof element === 'object' && element !== null) this.#namedObjects = true;
        (copy as unknown as Record<string, unknown>)[key] = this.#copy(element, [...path, index ? Number(key) : key]);
      }
      return copy;
    }
    if (isPlainPrototype(prototype)) {
      const copy: Record<string, unknown> = {};
      this.#copies.set(value, copy);
      // Structured clone gives every object Object.prototype: the receiver takes it away again.
      if (prototype === null) this.#nullPrototypes.push([...path]);
      for (const key of Object.keys(value)) copy[key] = this.#copy((value as Record<string, unknown>)[key], [...path, key]);
      return copy;
    }
    const claimedByClass = registry.claimAfterWalking(value, this);
    if (claimedByClass !== undefined) return this.#mark(value, claimedByClass, path);
    // Shared memory and its views go by structured clone as they are.
    this.#copies.set(value, value);
    return value;
  }

  #mark(value: object, marker: SpecialMarker, path: readonly (string | number)[]): null {
    this.#markers.set(value, marker);
    this.#specials.push({ path: [...path], marker });
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
  if ('bytes' in encoded) return settle(deserializeArrived(encoded.bytes, encoded.length), true);
  return new Decoding().decode(encoded);
}

/**
 * One value on its way in, with the values its markers carry (a `@shareable` instance's fields):
 * the same marker met anywhere in it, inside a marker or out, is one special value reached twice,
 * and arrives as one object.
 */
class Decoding implements NestedDecoding {
  readonly #revived = new Map<SpecialMarker, unknown>();

  decode(encoded: Encoded): unknown {
    if (!('value' in encoded)) return decode(encoded);
    let value = encoded.value;
    // Before any special value is set: a marker's values may share these objects, and are frozen when revived.
    for (const path of encoded.nullPrototypes ?? []) takePrototypeAway(value, path);
    for (const { path, marker } of encoded.specials) {
      let revived = this.#revived.get(marker);
      if (revived === undefined && !this.#revived.has(marker)) {
        revived = codecs().decode(marker, this);
        this.#revived.set(marker, revived);
      }
      if (path.length === 0) value = revived;
      else setAt(value, path, revived);
    }
    // Its arrays may hold objects in named properties, which a walk by index would not see.
    return settle(value, false, true);
  }
}

function deserializeArrived(bytes: SharedArrayBuffer, length: number): unknown {
  try {
    return deserialize(Buffer.from(bytes, 0, length));
  } catch (error) {
    // Only a value nested far deeper than any checked one overflows the stack here (a RangeError of
    // whichever realm deserialize runs in).
    const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
    if (name !== 'RangeError') throw error;
    throw new ShareabilityError('ERR_NOT_SHAREABLE', arrivedHere(), '', `nested too deeply to be read (${String(message)})`, TOO_DEEP_FIX);
  }
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
 * Gives the object at `path` back the null prototype it had on the sending thread. Only a plain
 * object that arrived may lose its prototype: the path leads through the value's own data, as
 * {@link setAt}'s does.
 */
function takePrototypeAway(root: unknown, path: readonly (string | number)[]): void {
  let object = root;
  for (const step of path) {
    if ((typeof step !== 'string' && typeof step !== 'number') || FORBIDDEN_STEPS.has(step) || typeof object !== 'object' || object === null || !Object.prototype.hasOwnProperty.call(object, step)) {
      object = undefined;
      break;
    }
    object = (object as Record<string | number, unknown>)[step];
  }
  const isPlainObject = typeof object === 'object' && object !== null && !Array.isArray(object) && Object.getPrototypeOf(object) !== null && isPlainPrototype(Object.getPrototypeOf(object) as object);
  if (!isPlainObject || !Object.isExtensible(object)) {
    throw new TypeError(`safethread: a value arrived with a null-prototype object at the path ${JSON.stringify(path)}, which does not lead to a plain object of its own data; it was refused`);
  }
  Object.setPrototypeOf(object, null);
}

/**
 * Freezes what arrived and remembers it as verified, with how deeply each part nests; plain data
 * is remembered as such, with a rough size, so that sending it on takes the fast path. A value
 * nested deeper than any checked value can be is refused, never walked by recursion.
 */
function settle(value: unknown, plain: boolean, arraysByKey = false): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const refused = settleArrived(value, plain, arraysByKey);
  if (refused !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', arrivedHere(), refused.path, refused.what, refused.fix);
  return value;
}
