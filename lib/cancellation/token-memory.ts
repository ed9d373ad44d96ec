import { deserialize, serialize } from 'node:v8';
import { slot } from '../runtime';
import { freeze } from '../shareability/freeze';
import type { TokenSlot } from '../threads/protocol';
import { deserializeError, serializeError, type SerializedError } from '../threads/serialize-error';

/**
 * The shared memory behind a cancellation token: a slot of shared memory per source, which every
 * thread holding the token maps. Cancelling writes the reason and then flips the state word, so
 * any thread reads `cancelled` with one atomic load (a tight CPU loop included) and, once it sees
 * the flip, can read the reason without waiting for a message. `Atomics.notify` on the state word
 * wakes the threads that wait on it.
 *
 * Slots come from slabs: one SharedArrayBuffer holds {@link SLOTS_PER_SLAB} tokens' memories.
 * Making a SharedArrayBuffer is costly (zeroed memory, and work for the garbage collector when it
 * goes), and every child of a branch has a token of its own: with one buffer per token, making
 * them took a tenth of the main thread's time in a branch of 10,000 trivial children. A slot is
 * never reused; a slab goes when no token on any thread maps it any more.
 */

/** Word offsets in the Int32Array view. */
export const STATE = 0;
export const REASON_LENGTH = 1;
/** Byte offset where the serialized reason starts. */
const REASON_OFFSET = 8;
/** Room for the serialized reason; a larger one is replaced by its description. */
const REASON_CAPACITY = 4096;

/** One token's memory: its two words, then the reason. */
const SLOT_BYTES = REASON_OFFSET + REASON_CAPACITY;
const SLOT_WORDS = SLOT_BYTES / Int32Array.BYTES_PER_ELEMENT;
/** Few enough that a token kept for long keeps little memory of others alive with it. */
const SLOTS_PER_SLAB = 16;

export const LIVE = 0;
export const CANCELLED = 1;

/** The slab this thread's new tokens take their slots from, and how many it has handed out. */
const currentSlab = slot('token memory slab', () => ({ buffer: undefined as SharedArrayBuffer | undefined, used: 0 }));

export function allocateTokenMemory(): Int32Array {
  const slab = currentSlab();
  if (slab.buffer === undefined || slab.used === SLOTS_PER_SLAB) {
    slab.buffer = new SharedArrayBuffer(SLOTS_PER_SLAB * SLOT_BYTES);
    slab.used = 0;
  }
  return new Int32Array(slab.buffer, SLOT_BYTES * slab.used++, SLOT_WORDS);
}

/** A token's memory as it crosses threads: its slab and where in it the token's slot starts. */
export function shareTokenMemory(memory: Int32Array): TokenSlot {
  return { buffer: memory.buffer as SharedArrayBuffer, offset: memory.byteOffset };
}

/**
 * The memory of a token that arrived. A slot that does not fit its buffer (a forged or broken
 * message) throws here, before any token maps it.
 */
export function mapTokenMemory(shared: TokenSlot): Int32Array {
  return new Int32Array(shared.buffer, shared.offset, SLOT_WORDS);
}

/** The reason as it is stored: an error as plain data, or a value structured clone carries. */
type StoredReason = { readonly error: SerializedError } | { readonly value: unknown } | { readonly none: true };

/**
 * Marks the token cancelled with `reason`, on every thread at once. Returns false if it already
 * was: the first cancel wins, and its reason stays.
 */
export function writeCancellation(memory: Int32Array, reason: unknown, thread: string): boolean {
  if (Atomics.load(memory, STATE) !== LIVE) return false;
  const bytes = encodedReason(reason, thread);
  new Uint8Array(memory.buffer, memory.byteOffset + REASON_OFFSET, bytes.length).set(bytes);
  Atomics.store(memory, REASON_LENGTH, bytes.length);
  // Only one source writes its memory, on its own thread, so the check above cannot race.
  Atomics.store(memory, STATE, CANCELLED);
  Atomics.notify(memory, STATE);
  return true;
}

export function readReason(memory: Int32Array): unknown {
  const length = Atomics.load(memory, REASON_LENGTH);
  const stored = deserialize(Buffer.from(memory.buffer as SharedArrayBuffer, memory.byteOffset + REASON_OFFSET, length)) as StoredReason;
  if ('error' in stored) return deserializeError(stored.error);
  // Plain data crosses frozen, as every shareable value does.
  if ('value' in stored) return freezeIfPlain(stored.value);
  return undefined;
}

/** Cancellation reasons already encoded for shared memory: only `encodedReason` reads and writes them. */
const encodedReasons = slot('encoded cancellation reasons', () => new WeakMap<object, Uint8Array>());

/**
 * The reason's bytes, made once per reason object: a cancel runs down a chain of linked sources
 * (a branch, each child, each nested branch), and formatting an error's stack is the costly part.
 */
function encodedReason(reason: unknown, thread: string): Uint8Array {
  if (typeof reason !== 'object' || reason === null) return encodeReason(reason, thread);
  const known = encodedReasons();
  let bytes = known.get(reason);
  if (bytes === undefined) {
    bytes = encodeReason(reason, thread);
    known.set(reason, bytes);
  }
  return bytes;
}

function freezeIfPlain(value: unknown): unknown {
  try {
    return freeze(value);
  } catch {
    // A reason that no freezing makes shareable (a Map, say) arrives as it is.
    return value;
  }
}

function encodeReason(reason: unknown, thread: string): Uint8Array {
  const stored: StoredReason =
    reason === undefined ? { none: true } : reason instanceof Error || (typeof reason === 'object' && reason !== null && 'stack' in reason) ? { error: serializeError(reason, thread) } : { value: reason };
  let bytes: Uint8Array;
  try {
    bytes = serialize(stored);
  } catch {
    bytes = serialize({ value: String(reason) } satisfies StoredReason);
  }
  if (bytes.length > REASON_CAPACITY && 'error' in stored) bytes = serialize({ error: shortenStacks(stored.error) });
  if (bytes.length > REASON_CAPACITY) {
    bytes = serialize({ value: `${String(reason).slice(0, 200)} (the full reason was too large to share between threads)` } satisfies StoredReason);
  }
  return bytes;
}

/** The error with each stack (its own and its causes') cut to its first lines, to fit the shared memory. */
function shortenStacks(error: SerializedError): SerializedError {
  const shorten = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map(shorten);
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      copy[key] = key === 'stack' && typeof field === 'string' ? field.split('\n').slice(0, 4).join('\n') : shorten(field);
    }
    return copy;
  };
  return shorten(error) as SerializedError;
}
