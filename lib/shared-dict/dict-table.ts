import { SharedDictError } from '../errors/shared-dict-error';
import { whereSet, type DictKey } from './dict-key';
import { entryBytes, HeapEntries } from './heap-entries';
import { DictLayout, EMPTY, MAX_INDEX_LOAD, TOMBSTONE, Word } from './dict-memory';
import { WriteLock } from './write-lock';

/**
 * The hash table in a dictionary's shared memory (laid out in dict-memory.ts), as one thread sees
 * it: lock-free reads, and writes under the write lock.
 *
 * Reads: an entry, once its reference is stored in the index, never changes until a compaction
 * has moved the table to the other half and a second one rewrites this half. So a reader loads
 * the epoch, probes the active index with atomic loads, reads the entry in place, and loads the
 * epoch again: the same epoch means what it read was whole. A single key is read without waiting
 * for anything, even for a writer that died mid-write.
 *
 * Writes append the entry, then publish it with one atomic store into its index slot (a delete
 * stores a tombstone). A compaction copies the live entries into the other half and publishes it
 * with one atomic store of the epoch. Counters are updated after the publishing store, and the
 * sequence word is odd for the whole write, so that readers of the whole table (size, iteration)
 * retry around writes. A writer that died mid-write left nothing half visible: whoever takes over
 * its lock recounts the counters from the index and makes the sequence word even.
 */
export class DictTable {
  readonly layout: DictLayout;
  readonly #words: Int32Array;
  readonly #entries: HeapEntries;
  readonly #writeLock: WriteLock;
  /** What the last lookup found: its slot (-1 when the key is absent), reference and epoch. */
  foundSlot = -1;
  foundRef = 0;
  foundEpoch = 0;
  /** Where a write may put a new key: the first tombstone or empty slot on its probe. */
  #freeSlot = -1;

  constructor(readonly memory: SharedArrayBuffer) {
    this.#words = new Int32Array(memory);
    this.#entries = new HeapEntries(memory);
    this.#writeLock = new WriteLock(memory);
    this.layout = new DictLayout(this.#words);
  }

  /** The epoch now: which half is active, and a stamp that changes with every compaction. */
  epoch(): number {
    return Atomics.load(this.#words, Word.EPOCH);
  }

  /**
   * Whether the slot at word `slotWord` (of the index of `epoch`) still holds `ref`, and that epoch
   * is still the current one: then what was read from there is current. The epoch is loaded after
   * the slot: epochs only grow, and `epoch` was current when the reference was read, so finding it
   * current afterwards means it was current when the slot was loaded, and the slot was the table's.
   */
  holds(epoch: number, slotWord: number, ref: number): boolean {
    const words = this.#words;
    return Atomics.load(words, slotWord) === ref && Atomics.load(words, EPOCH) === epoch;
  }

  /** The word of `slot` in the index of `epoch`. */
  slotWord(epoch: number, slot: number): number {
    return this.layout.indexAt[epoch & 1] + slot;
  }

  /**
   * Finds `key`, without a lock, setting `foundSlot`, `foundRef` and `foundEpoch`; returns a copy
   * of its value's bytes (when asked for them), or undefined when the key is absent.
   */
  lookup(key: DictKey, hash: number, withValue: boolean): Buffer | undefined {
    for (;;) {
      const epoch = Atomics.load(this.#words, Word.EPOCH);
      const slot = this.#find(epoch & 1, key, hash);
      const bytes = slot >= 0 && withValue ? this.#entries.valueBytes(this.#entryAt(epoch & 1, this.foundRef)) : undefined;
      if (Atomics.load(this.#words, Word.EPOCH) !== epoch) continue;
      this.foundSlot = slot;
      this.foundEpoch = epoch;
      return bytes;
    }
  }

  /** How many entries there are, consistent with a snapshot. */
  size(): number {
    return this.#readWhole(() => Atomics.load(this.#words, Word.COUNT));
  }

  /** Every entry at one moment: keys, where each is, and (when asked for) copies of the values' bytes. */
  snapshot(withValues: boolean): SnapshotEntry[] {
    return this.#readWhole(() => {
      const epoch = Atomics.load(this.#words, Word.EPOCH);
      const half = epoch & 1;
      const indexAt = this.layout.indexAt[half];
      const entries: SnapshotEntry[] = [];
      for (let slot = 0; slot < this.layout.capacity; slot++) {
        const ref = Atomics.load(this.#words, indexAt + slot);
        if (ref === EMPTY || ref === TOMBSTONE) continue;
        const at = this.#entryAt(half, ref);
        entries.push({ key: this.#entries.keyAt(at), epoch, slot, ref, bytes: withValues ? this.#entries.valueBytes(at) : undefined });
      }
      return entries;
    });
  }

  /** Sets `key` to the value of `bytes`, setting `foundSlot`, `foundRef` and `foundEpoch` to where it now is. */
  set(key: DictKey, hash: number, bytes: Uint8Array): void {
    this.#write(() => {
      const words = this.#words;
      const { maxBytes, maxEntries, capacity } = this.layout;
      let epoch = Atomics.load(words, Word.EPOCH);
      let slot = this.#find(epoch & 1, key, hash, true);
      const count = Atomics.load(words, Word.COUNT);
      if (slot < 0 && count >= maxEntries) {
        throw new SharedDictError('ERR_SHARED_DICT_FULL', whereSet(key), 'maxEntries', `it holds ${count} entries, its maxEntries`);
      }
      const size = entryBytes(key, bytes.length);
      const live = Atomics.load(words, Word.LIVE_BYTES);
      // An overwrite needs room for the new entry beside the old one, which is freed only after it.
      if (live + size > maxBytes) {
        throw new SharedDictError('ERR_SHARED_DICT_FULL', whereSet(key), 'maxBytes', `its ${count} entries take ${live} of its maxBytes (${maxBytes}), and this one needs ${size} more`);
      }
      // A new key in a slot never used lengthens probes for good: past a share of the index, make it anew.
      const takesEmpty = slot < 0 && (this.#freeSlot < 0 || Atomics.load(words, this.layout.indexAt[epoch & 1] + this.#freeSlot) === EMPTY);
      const indexFull = takesEmpty && count + Atomics.load(words, Word.TOMBSTONES) + 1 > capacity * MAX_INDEX_LOAD;
      if (Atomics.load(words, topWord(epoch & 1)) + size > maxBytes || indexFull) {
        this.#compact();
        epoch = Atomics.load(words, Word.EPOCH);
        slot = this.#find(epoch & 1, key, hash, true);
      }
      const half = epoch & 1;
      const oldRef = slot >= 0 ? this.foundRef : 0;
      const target = slot >= 0 ? slot : this.#freeSlot;
      const wasTombstone = slot < 0 && Atomics.load(words, this.layout.indexAt[half] + target) === TOMBSTONE;
      const top = Atomics.load(words, topWord(half));
      this.#entries.write(this.layout.heapAt[half] + top, key, hash, bytes);
      Atomics.store(words, topWord(half), top + size);
      const ref = top / 8 + 1;
      // The one store that makes the write visible.
      Atomics.store(words, this.layout.indexAt[half] + target, ref);
      const freed = oldRef === 0 ? 0 : this.#entries.size(this.#entryAt(half, oldRef));
      Atomics.add(words, Word.LIVE_BYTES, size - freed);
      if (slot < 0) Atomics.add(words, Word.COUNT, 1);
      if (wasTombstone) Atomics.sub(words, Word.TOMBSTONES, 1);
      this.foundSlot = target;
      this.foundRef = ref;
      this.foundEpoch = epoch;
    });
  }

  /** Deletes `key`; true when it was there. */
  delete(key: DictKey, hash: number): boolean {
    return this.#write(() => {
      const words = this.#words;
      const half = Atomics.load(words, Word.EPOCH) & 1;
      const slot = this.#find(half, key, hash, true);
      if (slot < 0) return false;
      const size = this.#entries.size(this.#entryAt(half, this.foundRef));
      Atomics.store(words, this.layout.indexAt[half] + slot, TOMBSTONE);
      Atomics.sub(words, Word.LIVE_BYTES, size);
      Atomics.sub(words, Word.COUNT, 1);
      Atomics.add(words, Word.TOMBSTONES, 1);
      return true;
    });
  }

  /** Deletes every entry at once: publishes the other half, empty. */
  clear(): void {
    this.#write(() => {
      const words = this.#words;
      const epoch = Atomics.load(words, Word.EPOCH);
      const to = (epoch + 1) & 1;
      words.fill(EMPTY, this.layout.indexAt[to], this.layout.indexAt[to] + this.layout.capacity);
      Atomics.store(words, topWord(to), 0);
      Atomics.store(words, Word.EPOCH, epoch + 1);
      Atomics.store(words, Word.COUNT, 0);
      Atomics.store(words, Word.LIVE_BYTES, 0);
      Atomics.store(words, Word.TOMBSTONES, 0);
    });
  }

  /** Runs `write` under the lock, with the sequence word odd meanwhile. */
  #write<R>(write: () => R): R {
    const words = this.#words;
    this.#lock();
    Atomics.add(words, Word.SEQ, 1);
    try {
      return write();
    } finally {
      Atomics.add(words, Word.SEQ, 1);
      this.#writeLock.release();
    }
  }

  #lock(): void {
    if (this.#writeLock.take()) this.#repair();
  }

  /**
   * After taking over the lock of a thread that died mid-write: the index is whole (its writes
   * publish with one store), so the counters are made again from it, and the sequence word is
   * made even. Bytes the dead write had reserved but not published are freed by the next compaction.
   */
  #repair(): void {
    const words = this.#words;
    const half = Atomics.load(words, Word.EPOCH) & 1;
    const indexAt = this.layout.indexAt[half];
    let count = 0;
    let live = 0;
    let tombstones = 0;
    for (let slot = 0; slot < this.layout.capacity; slot++) {
      const ref = Atomics.load(words, indexAt + slot);
      if (ref === TOMBSTONE) tombstones++;
      else if (ref !== EMPTY) {
        count++;
        live += this.#entries.size(this.#entryAt(half, ref));
      }
    }
    Atomics.store(words, Word.COUNT, count);
    Atomics.store(words, Word.LIVE_BYTES, live);
    Atomics.store(words, Word.TOMBSTONES, tombstones);
    if ((Atomics.load(words, Word.SEQ) & 1) === 1) Atomics.add(words, Word.SEQ, 1);
  }

  /**
   * Reads the whole table consistently: between two loads of the same even sequence word, no write
   * ran. When writers keep getting in the way (or one died mid-write), reads under the lock.
   */
  #readWhole<R>(read: () => R): R {
    const words = this.#words;
    for (let tries = 0; tries < WHOLE_READ_TRIES; tries++) {
      const before = Atomics.load(words, Word.SEQ);
      if ((before & 1) === 1) continue;
      const result = read();
      if (Atomics.load(words, Word.SEQ) === before) return result;
    }
    this.#lock();
    try {
      return read();
    } finally {
      this.#writeLock.release();
    }
  }

  /** Copies the live entries into the other half and publishes it (under the lock). */
  #compact(): void {
    const words = this.#words;
    const { capacity, indexAt, heapAt } = this.layout;
    const epoch = Atomics.load(words, Word.EPOCH);
    const from = epoch & 1;
    const to = 1 - from;
    const mask = capacity - 1;
    words.fill(EMPTY, indexAt[to], indexAt[to] + capacity);
    let top = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const ref = words[indexAt[from] + slot];
      if (ref === EMPTY || ref === TOMBSTONE) continue;
      const at = this.#entryAt(from, ref);
      const size = this.#entries.size(at);
      this.#entries.copy(at, heapAt[to] + top, size);
      let target = this.#entries.hashAt(at) & mask;
      while (words[indexAt[to] + target] !== EMPTY) target = (target + 1) & mask;
      words[indexAt[to] + target] = top / 8 + 1;
      top += size;
    }
    Atomics.store(words, topWord(to), top);
    // The one store that makes the compacted half the table.
    Atomics.store(words, Word.EPOCH, epoch + 1);
    Atomics.store(words, Word.TOMBSTONES, 0);
    Atomics.store(words, Word.LIVE_BYTES, top);
  }

  /**
   * The slot holding `key` in the index of `half`, or -1, setting `foundRef`. With `forWrite`,
   * also notes the first free slot on the way, where a new key would go.
   */
  #find(half: number, key: DictKey, hash: number, forWrite = false): number {
    const words = this.#words;
    const { capacity, indexAt } = this.layout;
    const base = indexAt[half];
    const mask = capacity - 1;
    let slot = hash & mask;
    this.#freeSlot = -1;
    for (let probes = 0; probes < capacity; probes++) {
      const ref = Atomics.load(words, base + slot);
      if (ref === EMPTY) {
        if (forWrite && this.#freeSlot < 0) this.#freeSlot = slot;
        return -1;
      }
      if (ref === TOMBSTONE) {
        if (forWrite && this.#freeSlot < 0) this.#freeSlot = slot;
      } else {
        const at = this.#entryAt(half, ref);
        if (this.#entries.hashAt(at) === hash && this.#entries.keyMatches(at, key)) {
          this.foundRef = ref;
          return slot;
        }
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  #entryAt(half: number, ref: number): number {
    return this.layout.heapAt[half] + (ref - 1) * 8;
  }
}

/** One entry of a {@link DictTable.snapshot}. */
export interface SnapshotEntry {
  readonly key: DictKey;
  readonly epoch: number;
  readonly slot: number;
  readonly ref: number;
  readonly bytes: Buffer | undefined;
}

/** Read on every cached read: a local constant, not a property of the table of words. */
const EPOCH = Word.EPOCH;

/** How often a reader of the whole table retries around writes before it takes the lock. */
const WHOLE_READ_TRIES = 200;

function topWord(half: number): number {
  return half === 0 ? Word.TOP_0 : Word.TOP_1;
}
