import { keyKind, type DictKey } from './dict-key';
import { align8, Entry, KeyKind } from './dict-memory';

/**
 * The entries in a dictionary's heaps, read and written in place: a header of four words (the
 * key's hash and kind, the key's length, the value's length), the key (UTF-16 code units, or one
 * float64), then the value's bytes, padded to 8. Entries are addressed by their byte offset in the
 * memory; which entries are live is the index's business (dict-table.ts).
 *
 * Offsets are turned into indexes with `>>>`, not `>>`: a dictionary's memory may pass 2 GiB
 * (two heaps of up to 1 GiB), where `>>` would make an offset negative.
 */
export class HeapEntries {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #units: Uint16Array;
  readonly #floats: Float64Array;

  constructor(memory: SharedArrayBuffer) {
    this.#words = new Int32Array(memory);
    this.#bytes = new Uint8Array(memory);
    this.#units = new Uint16Array(memory);
    this.#floats = new Float64Array(memory);
  }

  hashAt(at: number): number {
    return this.#words[(at + Entry.HASH) >>> 2];
  }

  /** Bytes the entry at `at` takes, padding included. */
  size(at: number): number {
    const words = this.#words;
    const keyLength = words[(at + Entry.KEY_KIND) >>> 2] === KeyKind.NUMBER ? 8 : words[(at + Entry.KEY_LENGTH) >>> 2] * 2;
    return align8(Entry.KEY + keyLength + words[(at + Entry.VALUE_LENGTH) >>> 2]);
  }

  /** Copies the `size` bytes of the entry at `from` to `to` (a compaction, into the other half). */
  copy(from: number, to: number, size: number): void {
    this.#bytes.copyWithin(to, from, from + size);
  }

  /** Whether the entry at `at` has the key `key`. */
  keyMatches(at: number, key: DictKey): boolean {
    const words = this.#words;
    if (typeof key === 'number') return words[(at + Entry.KEY_KIND) >>> 2] === KeyKind.NUMBER && this.#floats[(at + Entry.KEY) >>> 3] === key;
    if (words[(at + Entry.KEY_KIND) >>> 2] !== KeyKind.STRING || words[(at + Entry.KEY_LENGTH) >>> 2] !== key.length) return false;
    const units = this.#units;
    const start = (at + Entry.KEY) >>> 1;
    for (let index = 0; index < key.length; index++) if (units[start + index] !== key.charCodeAt(index)) return false;
    return true;
  }

  /** The key of the entry at `at`. */
  keyAt(at: number): DictKey {
    if (this.#words[(at + Entry.KEY_KIND) >>> 2] === KeyKind.NUMBER) return this.#floats[(at + Entry.KEY) >>> 3];
    const start = at + Entry.KEY;
    const length = this.#inBounds(start, this.#words[(at + Entry.KEY_LENGTH) >>> 2] * 2) / 2;
    const units = this.#units;
    let key = '';
    for (let from = start >> 1; from < (start >>> 1) + length; from += KEY_CHUNK) {
      key += String.fromCharCode.apply(null, units.subarray(from, Math.min(from + KEY_CHUNK, (start >>> 1) + length)) as unknown as number[]);
    }
    return key;
  }

  /** A copy of the value's bytes at `at`, in a pooled Buffer (a typed array of its own costs GC work). */
  valueBytes(at: number): Buffer {
    const words = this.#words;
    const start = at + Entry.KEY + (words[(at + Entry.KEY_KIND) >>> 2] === KeyKind.NUMBER ? 8 : words[(at + Entry.KEY_LENGTH) >>> 2] * 2);
    const length = this.#inBounds(start, words[(at + Entry.VALUE_LENGTH) >>> 2]);
    const copy = Buffer.allocUnsafe(length);
    const bytes = this.#bytes;
    if (length <= 64) for (let index = 0; index < length; index++) copy[index] = bytes[start + index];
    else copy.set(bytes.subarray(start, start + length));
    return copy;
  }

  /**
   * `length`, or 0 when the `length` bytes from `start` do not fit in the memory. A reader that is
   * descheduled while two compactions rewrite the half it reads may read a length that is garbage;
   * its read fails the epoch or sequence check and is retried, but it must not first throw or
   * allocate gigabytes because of it.
   */
  #inBounds(start: number, length: number): number {
    return length >= 0 && start >= 0 && start + length <= this.#bytes.length ? length : 0;
  }

  /** Writes an entry at `at`, which no reader can reach yet. */
  write(at: number, key: DictKey, hash: number, value: Uint8Array): void {
    const words = this.#words;
    words[(at + Entry.HASH) >>> 2] = hash;
    words[(at + Entry.KEY_KIND) >>> 2] = keyKind(key);
    words[(at + Entry.VALUE_LENGTH) >>> 2] = value.length;
    let valueAt: number;
    if (typeof key === 'number') {
      words[(at + Entry.KEY_LENGTH) >>> 2] = 0;
      this.#floats[(at + Entry.KEY) >>> 3] = key;
      valueAt = at + Entry.KEY + 8;
    } else {
      words[(at + Entry.KEY_LENGTH) >>> 2] = key.length;
      const start = (at + Entry.KEY) >>> 1;
      for (let index = 0; index < key.length; index++) this.#units[start + index] = key.charCodeAt(index);
      valueAt = at + Entry.KEY + key.length * 2;
    }
    this.#bytes.set(value, valueAt);
  }
}

/** Bytes an entry of `key` and a value of `valueLength` bytes takes. */
export function entryBytes(key: DictKey, valueLength: number): number {
  return align8(Entry.KEY + (typeof key === 'number' ? 8 : key.length * 2) + valueLength);
}

/** How many code units of a key are turned into a string at once (String.fromCharCode takes them as arguments). */
const KEY_CHUNK = 4096;
