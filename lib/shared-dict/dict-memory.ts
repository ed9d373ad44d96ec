/**
 * The shared memory of a `SharedDict`: one SharedArrayBuffer that every thread maps, laid out as a
 * header of 32-bit words, then two halves, each an index (an open-addressing hash table of entry
 * references) and a heap (the entries, appended one after the other).
 *
 * One half is active at a time. Writes append an entry to the active heap and publish it with one
 * atomic store into the index, so an entry, once reachable, never changes: readers need no lock.
 * When the active heap is full, the writer copies the live entries into the other half and makes
 * it active with one atomic store of the epoch. Everything a write does before its one store is
 * invisible, which is what lets a thread that died mid-write be cleaned up after (see
 * dict-table.ts).
 */

/** Header words, by index into the buffer's Int32Array. */
export const Word = {
  /** The write lock, 64 bits over this word and the next: 0 when free, else its holder's ticket and thread (write-lock.ts). */
  LOCK: 0,
  /** Hands out tickets. */
  TICKETS: 2,
  /** How many threads sleep in `Atomics.wait` on the lock: the releaser wakes one if any. */
  LOCK_WAITERS: 3,
  /** Odd while a write is under way: readers of a whole snapshot (iteration, size) retry around it. */
  SEQ: 4,
  /** Which half is active (its low bit); it changes only when a compaction publishes the other half. */
  EPOCH: 5,
  /** Live entries. */
  COUNT: 6,
  /** Bytes the live entries take in the heap. */
  LIVE_BYTES: 7,
  /** Deleted slots in the active index, which lengthen probes until the next compaction. */
  TOMBSTONES: 8,
  /** Where the next entry goes in heap 0, and in heap 1. */
  TOP_0: 9,
  TOP_1: 10,
  /** The layout, so that a thread receiving the buffer reads it from the buffer. */
  CAPACITY: 11,
  MAX_BYTES: 12,
  MAX_ENTRIES: 13,
} as const;

const HEADER_BYTES = 64;

/** An index slot that never held an entry: a probe stops here. */
export const EMPTY = 0;
/** An index slot whose entry was deleted: a probe goes on past it. */
export const TOMBSTONE = -1;

/** Entry fields, in bytes from the entry's start; entries start on 8-byte boundaries. */
export const Entry = {
  HASH: 0,
  KEY_KIND: 4,
  /** UTF-16 code units of a string key; unused for a number key. */
  KEY_LENGTH: 8,
  VALUE_LENGTH: 12,
  /** The key: UTF-16 code units, or one float64; then the value's bytes. */
  KEY: 16,
} as const;

export const KeyKind = { STRING: 1, NUMBER: 2 } as const;

/** Compaction makes the index anew once deleted slots and live ones fill this share of it. */
export const MAX_INDEX_LOAD = 0.75;

/** The largest heap a half may have: heap offsets are 32-bit. */
export const MAX_HEAP_BYTES = 2 ** 30;

export function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** Index slots for `maxEntries`: a power of two at least twice it, so that live entries fill at most half. */
export function indexCapacity(maxEntries: number): number {
  let capacity = 8;
  while (capacity < maxEntries * 2) capacity *= 2;
  return capacity;
}

/** A new dictionary's memory. */
export function allocateDictMemory(maxEntries: number, maxBytes: number): SharedArrayBuffer {
  const capacity = indexCapacity(maxEntries);
  const heapBytes = align8(maxBytes);
  const buffer = new SharedArrayBuffer(HEADER_BYTES + align8(capacity * 4) * 2 + heapBytes * 2);
  const words = new Int32Array(buffer);
  words[Word.CAPACITY] = capacity;
  words[Word.MAX_BYTES] = maxBytes;
  words[Word.MAX_ENTRIES] = maxEntries;
  return buffer;
}

/** Where each part of a dictionary's memory starts, read from its header. */
export class DictLayout {
  readonly capacity: number;
  readonly maxBytes: number;
  readonly maxEntries: number;
  /** Word index of each half's index. */
  readonly indexAt: readonly [number, number];
  /** Byte offset of each half's heap. */
  readonly heapAt: readonly [number, number];

  constructor(words: Int32Array) {
    this.capacity = words[Word.CAPACITY];
    this.maxBytes = words[Word.MAX_BYTES];
    this.maxEntries = words[Word.MAX_ENTRIES];
    const indexBytes = align8(this.capacity * 4);
    this.indexAt = [HEADER_BYTES / 4, (HEADER_BYTES + indexBytes) / 4];
    const heap0 = HEADER_BYTES + indexBytes * 2;
    this.heapAt = [heap0, heap0 + align8(this.maxBytes)];
  }
}
