import { deserialize, serialize } from 'node:v8';
import type { Encoded } from '../threads/protocol';

/**
 * A channel value as bytes in shared memory (ring.ts): the value as the serializer encodes it
 * for a message (threads/serialize.ts: checked, special values as markers beside the data), then
 * those bytes. A number, the commonest value, is written as itself. What structured clone could
 * carry but bytes cannot (a SharedArrayBuffer: the memory of a token or a channel inside the
 * value, a moved buffer) has no bytes: such a value goes through the channel's core by message.
 */

const NUMBER = 1;
const SERIALIZED = 2;
/** Plain data serialized once by the serializer (a large value): its bytes as they are. */
const PLAIN_BYTES = 3;

/** The bytes of an encoded value, or undefined when it can only travel by message. */
export function toBytes(encoded: Encoded): Uint8Array | undefined {
  if ('plain' in encoded && typeof encoded.plain === 'number') {
    const bytes = new Uint8Array(9);
    bytes[0] = NUMBER;
    new DataView(bytes.buffer).setFloat64(1, encoded.plain, true);
    return bytes;
  }
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

/** The encoded value that `bytes` were made from: `decode` it on the taking thread. */
export function fromBytes(bytes: Uint8Array): Encoded {
  switch (bytes[0]) {
    case NUMBER:
      return { plain: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(1, true) };
    case PLAIN_BYTES: {
      const copy = bytes.slice(1);
      return { bytes: copy.buffer as unknown as SharedArrayBuffer, length: copy.length };
    }
    default:
      return deserialize(bytes.subarray(1)) as Encoded;
  }
}
