import type { TransferListItem } from 'node:worker_threads';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { isArrayPrototype, isPlainPrototype } from '../shareability/check';
import { freezeDeeply } from '../shareability/freeze';
import { verifiedValues } from '../shareability/verified-values';
import { codecs } from './codec-registry';
import type { Encoded, Special } from './protocol';

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
  const copy = copyWithout(value, [], specials);
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
  const copy = copyWithout(value, [], specials);
  return specials.length === 0 ? { plain: copy } : { value: copy, specials };
}

/** A copy of `value` with every special value (one a codec claims) replaced by null and its marker listed in `specials`. */
function copyWithout(value: unknown, path: (string | number)[], specials: Special[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (verifiedValues().isPlainData(value)) return value;
  const registry = codecs();
  const claimed = registry.claimBeforeWalking(value);
  if (claimed !== undefined) {
    specials.push({ path: [...path], marker: claimed });
    return null;
  }
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (Array.isArray(value) && isArrayPrototype(prototype)) {
    return value.map((element, index) => copyWithout(element, [...path, index], specials));
  }
  if (isPlainPrototype(prototype)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = copyWithout((value as Record<string, unknown>)[key], [...path, key], specials);
    return copy;
  }
  const claimedByClass = registry.claimAfterWalking(value);
  if (claimedByClass !== undefined) {
    specials.push({ path: [...path], marker: claimedByClass });
    return null;
  }
  // Shared memory and its views go by structured clone as they are.
  return value;
}

export function decodeAll(values: readonly Encoded[]): unknown[] {
  return values.map(decode);
}

export function decode(encoded: Encoded): unknown {
  if ('plain' in encoded) return settle(encoded.plain, true);
  if ('moved' in encoded) return encoded.moved;
  if ('bytes' in encoded) return settle(deserialize(Buffer.from(encoded.bytes, 0, encoded.length)), true);
  let value = encoded.value;
  for (const { path, marker } of encoded.specials) {
    const revived = codecs().decode(marker);
    if (path.length === 0) value = revived;
    else setAt(value, path, revived);
  }
  return settle(value, false);
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let parent = root as Record<string | number, unknown>;
  for (let index = 0; index < path.length - 1; index++) parent = parent[path[index] as string | number] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
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
