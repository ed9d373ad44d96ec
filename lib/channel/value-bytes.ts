import { deserialize, serialize } from 'node:v8';
import type { Encoded } from '../threads/protocol';

/**
 * A channel value as bytes in shared memory (ring.ts). The commonest values, numbers, strings,
 * booleans, null and undefined, are written as themselves straight into the ring's log and read
 * back from it, with nothing made on the way: a primitive needs no check and no encoding, and it
 * is the same value on every thread. Any other value is encoded as the serializer encodes it for
 * a message (threads/serialize.ts: checked, special values as markers beside the data), then
 * those bytes. What structured clone could carry but bytes cannot (a SharedArrayBuffer: the
 * memory of a token or a channel inside the value, a moved buffer) has no bytes: such a value
 * goes through the channel's core by message.
 *
 * The first byte of a value's bytes says how the rest is written.
 */

const NUMBER = 1;
const SERIALIZED = 2;
/** Plain data serialized once by the serializer (a large value): its bytes as they are. */
const PLAIN_BYTES = 3;
/** A string, as UTF-8. */
const STRING = 4;
const TRUE = 5;
const FALSE = 6;
const NULL = 7;
const UNDEFINED = 8;

/** Bytes of a number: its kind and a float64. */
const NUMBER_BYTES = 9;
/** Longer strings are counted before they are written; shorter ones are given room for their longest UTF-8. */
const COUNTED_STRING_FROM = 256;

/** The values written as themselves (see the header). */
export type Primitive = number | string | boolean | null | undefined;

/**
 * Whether `value` is written as itself: it needs no check, no encoding, and is the same on every
 * thread. Not a string with a lone surrogate, which UTF-8 cannot hold (it would arrive as U+FFFD):
 * the serializer's bytes keep it.
 */
export function isPrimitive(value: unknown): value is Primitive {
  const type = typeof value;
  if (type === 'string') return (value as WellFormedCheck).isWellFormed();
  return type === 'number' || type === 'boolean' || value === null || value === undefined;
}

/** `String.prototype.isWellFormed` (Node 20), which the ES2022 library types lack. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * The most bytes {@link writePrimitive} may write for `value`. A short string is given room for
 * its longest UTF-8 (three bytes a UTF-16 unit), its exact length counted only when it is long.
 */
export function primitiveRoom(value: Primitive): number {
  if (typeof value === 'number') return NUMBER_BYTES;
  if (typeof value === 'string') return 1 + (value.length < COUNTED_STRING_FROM ? 3 * value.length : Buffer.byteLength(value, 'utf8'));
  return 1;
}

/** Writes `value` at `offset` of the log (as {@link log} and {@link view} see it); returns how many bytes it took. */
export function writePrimitive(log: Buffer, view: DataView, offset: number, value: Primitive): number {
  switch (typeof value) {
    case 'number':
      log[offset] = NUMBER;
      view.setFloat64(offset + 1, value, true);
      return NUMBER_BYTES;
    case 'string':
      log[offset] = STRING;
      return 1 + log.write(value, offset + 1, 'utf8');
    case 'boolean':
      log[offset] = value ? TRUE : FALSE;
      return 1;
    default:
      log[offset] = value === null ? NULL : UNDEFINED;
      return 1;
  }
}

/** A value read from the log that is not a primitive: its bytes, copied out, to decode with {@link fromBytes}. */
export class ValueBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** The value whose bytes are at `offset` of the log: a primitive as itself, any other a copy of its bytes. */
export function readValue(log: Buffer, view: DataView, offset: number, length: number): Primitive | ValueBytes {
  switch (log[offset]) {
    case NUMBER:
      return view.getFloat64(offset + 1, true);
    case STRING:
      return log.toString('utf8', offset + 1, offset + length);
    case TRUE:
      return true;
    case FALSE:
      return false;
    case NULL:
      return null;
    case UNDEFINED:
      return undefined;
    default:
      // A copy, made before the slot is given up: the log's bytes are written over once the lock is let go.
      return new ValueBytes(new Uint8Array(log.buffer, log.byteOffset + offset, length).slice());
  }
}

/** The bytes of an encoded value that is not a primitive, or undefined when it can only travel by message. */
export function toBytes(encoded: Encoded): Uint8Array | undefined {
  if ('moved' in encoded) return undefined;
  if ('bytes' in encoded) {
    const bytes = new Uint8Array(encoded.length + 1);
    bytes[0] = PLAIN_BYTES;
    bytes.set(new Uint8Array(encoded.bytes, 0, encoded.length), 1);
    return bytes;
  }
  let serialized: Buffer;
  try {
    serialized = serialize(encoded);
  } catch {
    // A SharedArrayBuffer inside (a token's or a channel's memory): only a message shares it.
    return undefined;
  }
  const bytes = new Uint8Array(serialized.length + 1);
  bytes[0] = SERIALIZED;
  bytes.set(serialized, 1);
  return bytes;
}

/** The encoded value that `bytes` (from {@link toBytes}) were made from: `decode` it on the taking thread. */
export function fromBytes(bytes: Uint8Array): Encoded {
  switch (bytes[0]) {
    case PLAIN_BYTES: {
      const copy = bytes.slice(1);
      return { bytes: copy.buffer as unknown as SharedArrayBuffer, length: copy.length };
    }
    default:
      return deserialize(bytes.subarray(1)) as Encoded;
  }
}
