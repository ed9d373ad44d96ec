import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { ShareabilityError } from '../errors/shareability-error';
import { SharedDictError } from '../errors/shared-dict-error';
import { findViolation, formatPath, isArrayPrototype } from '../shareability/check';
import { knownObjects } from '../shareability/known-objects';
import { verifiedValues } from '../shareability/verified-values';
import type { Encoded } from '../threads/protocol';
import { decode, encodeWalked } from '../threads/serialize';
import { whereSet, type DictKey } from './dict-key';

/**
 * Values in a `SharedDict`, as the bytes its memory holds.
 *
 * A value is stored as it would cross threads (threads/serialize.ts), serialized to bytes: plain
 * data as it is, `@shareable` instances as their class and fields. Reading one back makes it
 * again, frozen and remembered as verified, so it crosses threads onwards at no cost. Values
 * that cross as a live link rather than as data (monitor references, channels, tokens) are
 * refused: each thread that read one would hold a link that must be released there, which bytes
 * in shared memory cannot track. So is shared memory, whose bytes would be copied, not shared.
 */

/**
 * The first byte of a stored value says how the rest is written: a primitive in a few bytes of
 * its own, or anything else as the v8 serialization of how it crosses threads (which costs
 * microseconds even for a number, so it is kept for values that need it).
 */
const Form = { ENCODED: 0, NUMBER: 1, STRING: 2, TRUE: 3, FALSE: 4, NULL: 5, UNDEFINED: 6 } as const;

/** The bytes that stand for `value`, set at `key`; or a ShareabilityError / SharedDictError naming the path. */
export function storedBytes(value: unknown, key: DictKey): Uint8Array {
  const primitive = primitiveBytes(value);
  if (primitive !== undefined) return primitive;
  const found = findViolation(value, false);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', `${whereSet(key)}: value`, found.path, found.what, found.fix);
  let encoded: Encoded = { plain: value };
  if (typeof value === 'object' && value !== null) {
    const refused = new LinkFinder().find(value);
    if (refused !== undefined) throw new SharedDictError('ERR_SHARED_DICT_VALUE', `${whereSet(key)}: value`, refused.path, refused.what, refused.why);
    // As a whole value would cross, but never as bytes in shared memory (which v8.serialize cannot write).
    encoded = encodeWalked(value);
  }
  const serialized = serialize(encoded);
  const bytes = Buffer.allocUnsafe(serialized.length + 1);
  bytes[0] = Form.ENCODED;
  serialized.copy(bytes, 1);
  return bytes;
}

/** The value the bytes stand for: frozen, and equal to what was stored. */
export function storedValue(bytes: Buffer): unknown {
  switch (bytes[0]) {
    case Form.NUMBER:
      return bytes.readDoubleLE(1);
    case Form.STRING:
      return bytes.toString('utf16le', 1);
    case Form.TRUE:
      return true;
    case Form.FALSE:
      return false;
    case Form.NULL:
      return null;
    case Form.UNDEFINED:
      return undefined;
    default:
      return decode(deserialize(bytes.subarray(1)) as Encoded);
  }
}

// Small buffers come from Node's shared pool: a typed array of its own costs a backing store and GC work.
function primitiveBytes(value: unknown): Uint8Array | undefined {
  switch (typeof value) {
    case 'number': {
      const bytes = Buffer.allocUnsafe(9);
      bytes[0] = Form.NUMBER;
      bytes.writeDoubleLE(value, 1);
      return bytes;
    }
    case 'string': {
      const bytes = Buffer.allocUnsafe(1 + value.length * 2);
      bytes[0] = Form.STRING;
      bytes.write(value, 1, 'utf16le');
      return bytes;
    }
    case 'boolean':
      return oneByte(value ? Form.TRUE : Form.FALSE);
    case 'undefined':
      return oneByte(Form.UNDEFINED);
    case 'object':
      return value === null ? oneByte(Form.NULL) : undefined;
    default:
      return undefined;
  }
}

interface Refusal {
  readonly path: string;
  readonly what: string;
  readonly why: string;
}

const LINK_WHY = 'it is a link to an object on one thread, which each thread that read it from the dict would have to release';
const MEMORY_WHY = 'the dict stores copies of bytes, so the memory would no longer be shared';

/** Walks a value already proven shareable for the parts a dictionary cannot hold. */
class LinkFinder {
  readonly #seen = new Set<object>();
  readonly #path: (string | number)[] = [];

  find(value: object): Refusal | undefined {
    if (this.#seen.has(value) || verifiedValues().isPlainData(value)) return undefined;
    this.#seen.add(value);
    if (knownObjects().isSelfProtecting(value)) return this.#refuse(describeLink(value), LINK_WHY);
    if (types.isSharedArrayBuffer(value)) return this.#refuse('a SharedArrayBuffer', MEMORY_WHY);
    if (ArrayBuffer.isView(value)) return this.#refuse(`a ${value.constructor.name} over a SharedArrayBuffer`, MEMORY_WHY);
    const prototype = Object.getPrototypeOf(value) as object | null;
    const isArray = Array.isArray(value) && isArrayPrototype(prototype);
    // Plain objects, arrays and @shareable instances: the check let nothing else through.
    for (const key of Object.keys(value)) {
      const field: unknown = (value as Record<string, unknown>)[key];
      if (typeof field !== 'object' || field === null) continue;
      this.#path.push(isArray && /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key);
      const refused = this.find(field);
      if (refused !== undefined) return refused;
      this.#path.pop();
    }
    return undefined;
  }

  #refuse(what: string, why: string): Refusal {
    return { path: formatPath(this.#path), what, why };
  }
}

function describeLink(value: object): string {
  // A monitor reference is a Proxy; asking it for its prototype would run its traps.
  if (types.isProxy(value)) return 'a monitor reference';
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === 'Channel' || name === 'CancellationToken' || name === 'SharedDict' ? `a ${name}` : 'a monitor reference';
}

function oneByte(form: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(1);
  bytes[0] = form;
  return bytes;
}
