import { inspect, types } from 'node:util';
import { DefinitionError } from '../errors/definition-error';
import { knownObjects } from '../shareability/known-objects';
import { codecs } from '../threads/codec-registry';
import type { SharedDictMarker } from '../threads/protocol';
import { checkKey, hashKey, type DictKey } from './dict-key';
import { allocateDictMemory, DictLayout, indexCapacity, MAX_HEAP_BYTES } from './dict-memory';
import { DictTable } from './dict-table';
import { knownDicts } from './known-dicts';
import { storedBytes, storedValue } from './stored-value';

/**
 * How large a {@link SharedDict} may grow. Its memory is allocated at once, at about twice
 * `maxBytes` (the table keeps a second half to compact into), and pages the dictionary never
 * touches cost nothing on most systems.
 *
 * @example
 * ```ts
 * const prices = new SharedDict<string, number>({ maxEntries: 100_000, maxBytes: 16 * 1024 * 1024 });
 * ```
 */
export interface SharedDictOptions {
  /**
   * How many entries it may hold; a `set` of a new key beyond it fails with a `SharedDictError`.
   * @default 4096
   */
  readonly maxEntries?: number;
  /**
   * How many bytes its entries may take: each key and serialized value, plus 16 bytes, rounded up
   * to 8. A `set` that would go beyond it fails with a `SharedDictError`; an overwrite needs room
   * for the new value beside the old one.
   * @default 4194304 (4 MiB)
   */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 4096;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES_LIMIT = 2 ** 24;
const MIN_BYTES = 64;

/** A decoded value, and where it was when decoded: while that slot still holds that entry, it is current. */
interface CachedValue {
  readonly epoch: number;
  readonly slot: number;
  /** The slot's word in the memory, for the check on every read. */
  readonly slotWord: number;
  readonly ref: number;
  readonly value: unknown;
}

/** How a dictionary that arrived from another thread is made here (never passed by users). */
class Revival {
  constructor(readonly id: string, readonly memory: SharedArrayBuffer) {}
}

/**
 * A dictionary every thread may read and write. Keys are strings or numbers (`1` and `'1'` are
 * different keys); values must be shareable (plain frozen data, `@shareable` instances) and are
 * read back frozen, equal to what was set. `get` and `has` read shared memory directly: no
 * message, no lock, no waiting, from any thread; a value read again while unchanged is not decoded
 * again. `set`, `delete` and `clear` take a short lock in shared memory, also from any thread.
 * Iteration (`entries()`, `keys()`, `values()`, `for...of`) and `size` see one consistent moment.
 *
 * A dictionary is shareable: pass it to children, spawned actors and monitor calls, and every
 * thread reads and writes the same entries. It cannot hold monitor references, channels, tokens or
 * shared memory (keep those in a `@Monitor`), and it is bounded: `set` beyond `maxEntries` or
 * `maxBytes` fails with a `SharedDictError` naming the limit to raise.
 *
 * Each operation is atomic on its own; a read-modify-write (`set(k, get(k) + 1)`) is not, so two
 * threads doing it at once may lose an update: keep such state in a `@Monitor`.
 *
 * A thread that dies in the middle of a write (its worker terminated) leaves the lock taken; the
 * next writer takes it over once the main thread has seen that worker end, and repairs the table,
 * so the dictionary is never wedged, and reads of single keys never wait at all. A writer that is
 * alive, however long it is paused (a debugger, a long GC), keeps its lock (see write-lock.ts for
 * the one case left to a 30 s timeout).
 *
 * @example
 * ```ts
 * const seen = new SharedDict<string, number>({ maxEntries: 10_000 });
 * await branch((children) => {
 *   for (const url of urls) children.add(crawl, url, seen); // seen.set(url, Date.now()) ... seen.has(link)
 * });
 * console.log(`${seen.size} pages`, [...seen.keys()]);
 * ```
 */
export class SharedDict<K extends string | number, V> implements Iterable<[K, V]> {
  readonly #table: DictTable;
  readonly #id: string;
  /** This thread's decoded values, by key. */
  readonly #cache = new Map<DictKey, CachedValue>();
  readonly #cacheLimit: number;
  /** The epoch the cached values belong to: a compaction moves every entry, so they are dropped. */
  #cacheEpoch = 0;

  constructor(options: SharedDictOptions = {}) {
    let memory: SharedArrayBuffer;
    let id: string;
    if (options instanceof Revival) {
      ({ memory, id } = options);
    } else {
      const maxEntries = checkOption(options, 'maxEntries', DEFAULT_MAX_ENTRIES, 1, MAX_ENTRIES_LIMIT);
      const maxBytes = checkOption(options, 'maxBytes', DEFAULT_MAX_BYTES, MIN_BYTES, MAX_HEAP_BYTES);
      memory = allocateDictMemory(maxEntries, maxBytes);
      id = knownDicts().newId();
    }
    this.#table = new DictTable(memory);
    this.#id = id;
    this.#cacheLimit = this.#table.layout.maxEntries * 2 + 64;
    knownObjects().addSelfProtecting(this);
    knownDicts().remember(id, this);
    Object.freeze(this);
  }

  /**
   * The dictionary of a marker that arrived from another thread: the one handle of this thread.
   * @internal
   */
  static revive(marker: SharedDictMarker): SharedDict<string | number, unknown> {
    const known = knownDicts().find(marker.id);
    if (known instanceof SharedDict) return known as SharedDict<string | number, unknown>;
    checkMemory(marker.memory);
    return new SharedDict(new Revival(marker.id, marker.memory) as SharedDictOptions);
  }

  /**
   * What crosses threads for `value` when it is a dictionary; undefined otherwise.
   * @internal
   */
  static markerOf(value: object): SharedDictMarker | undefined {
    if (!(#table in value)) return undefined;
    const dict = value as SharedDict<string | number, unknown>;
    return { kind: 'shared-dict', id: dict.#id, memory: dict.#table.memory };
  }

  /** The value of `key`, or undefined; frozen. Reads shared memory: no message, no lock. */
  get(key: K): V | undefined {
    const cached = this.#cache.get(key);
    if (cached !== undefined && this.#table.holds(cached.epoch, cached.slotWord, cached.ref)) return cached.value as V;
    const checked = checkKey(key, 'SharedDict.get');
    const table = this.#table;
    const bytes = table.lookup(checked, hashKey(checked), true);
    if (bytes === undefined) {
      this.#cache.delete(checked);
      return undefined;
    }
    // Where it was found, read before decoding: a decode may load a module, whose code may read this dict.
    const { foundEpoch, foundSlot, foundRef } = table;
    const value = storedValue(bytes);
    this.#remember(checked, foundEpoch, foundSlot, foundRef, value);
    return value as V;
  }

  /** Whether `key` is in the dictionary. Reads shared memory: no message, no lock. */
  has(key: K): boolean {
    const cached = this.#cache.get(key);
    if (cached !== undefined && this.#table.holds(cached.epoch, cached.slotWord, cached.ref)) return true;
    const checked = checkKey(key, 'SharedDict.has');
    this.#table.lookup(checked, hashKey(checked), false);
    return this.#table.foundSlot >= 0;
  }

  /**
   * Sets `key` to `value`, which must be shareable: a `ShareabilityError` names the part that is
   * not. Fails with a `SharedDictError` when the dictionary is full. Returns the dictionary.
   */
  set(key: K, value: V): this {
    const checked = checkKey(key, 'SharedDict.set');
    // Serialized before the lock is taken, so that the lock is held only to copy bytes.
    const bytes = storedBytes(value, checked);
    const table = this.#table;
    table.set(checked, hashKey(checked), bytes);
    // The value is deeply frozen (or the check would have refused it): this thread reads it back as it is.
    this.#remember(checked, table.foundEpoch, table.foundSlot, table.foundRef, value);
    return this;
  }

  /** Deletes `key`; true when it was there. */
  delete(key: K): boolean {
    const checked = checkKey(key, 'SharedDict.delete');
    this.#cache.delete(checked);
    return this.#table.delete(checked, hashKey(checked));
  }

  /** Deletes every entry, at once for every thread. */
  clear(): void {
    this.#cache.clear();
    this.#table.clear();
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#table.size();
  }

  /** The limits it was made with. */
  get limits(): Required<SharedDictOptions> {
    const { maxEntries, maxBytes } = this.#table.layout;
    return { maxEntries, maxBytes };
  }

  /** Its entries at one moment, as `[key, value]` pairs: later writes do not change what this iterates. */
  entries(): IterableIterator<[K, V]> {
    return this.#snapshot().map(({ key, value }) => [key as K, value as V] as [K, V])[Symbol.iterator]();
  }

  /** Its keys at one moment. */
  keys(): IterableIterator<K> {
    return this.#table
      .snapshot(false)
      .map(({ key }) => key as K)
      [Symbol.iterator]();
  }

  /** Its values at one moment, frozen. */
  values(): IterableIterator<V> {
    return this.#snapshot().map(({ value }) => value as V)[Symbol.iterator]();
  }

  /** Same as {@link entries}. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'SharedDict';
  }

  [inspect.custom](): string {
    return `SharedDict { size: ${this.size} }`;
  }

  #snapshot(): { readonly key: DictKey; readonly value: unknown }[] {
    return this.#table.snapshot(true).map(({ key, epoch, slot, ref, bytes }) => {
      const cached = this.#cache.get(key);
      if (cached !== undefined && cached.epoch === epoch && cached.slot === slot && cached.ref === ref) return { key, value: cached.value };
      const value = storedValue(bytes as Buffer);
      this.#remember(key, epoch, slot, ref, value);
      return { key, value };
    });
  }

  #remember(key: DictKey, epoch: number, slot: number, ref: number, value: unknown): void {
    if (epoch !== this.#cacheEpoch || this.#cache.size >= this.#cacheLimit) {
      this.#cache.clear();
      this.#cacheEpoch = epoch;
    }
    this.#cache.set(key, { epoch, slot, slotWord: this.#table.slotWord(epoch, slot), ref, value });
  }
}

function checkOption(options: SharedDictOptions, name: keyof SharedDictOptions, fallback: number, min: number, max: number): number {
  if (typeof options !== 'object' || options === null) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'new SharedDict(options)', 'options', 'an object such as { maxEntries, maxBytes }', String(options));
  }
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DefinitionError('ERR_INVALID_OPTION', 'new SharedDict(options)', name, `a whole number from ${min} to ${max}`, String(value));
  }
  return value;
}

/** Refuses memory that is not laid out as a dictionary's: a crafted message must not make a table that reads out of bounds. */
function checkMemory(memory: unknown): asserts memory is SharedArrayBuffer {
  const valid =
    types.isSharedArrayBuffer(memory) &&
    memory.byteLength >= 64 &&
    (() => {
      const layout = new DictLayout(new Int32Array(memory, 0, 16));
      return (
        layout.maxEntries >= 1 &&
        layout.maxEntries <= MAX_ENTRIES_LIMIT &&
        layout.maxBytes >= MIN_BYTES &&
        layout.maxBytes <= MAX_HEAP_BYTES &&
        layout.capacity === indexCapacity(layout.maxEntries) &&
        memory.byteLength === allocateDictMemoryLength(layout)
      );
    })();
  if (!valid) throw new TypeError('safethread: a SharedDict arrived whose memory is not laid out as a SharedDict\'s; it was refused');
}

function allocateDictMemoryLength(layout: DictLayout): number {
  return layout.heapAt[1] + (layout.heapAt[1] - layout.heapAt[0]);
}

knownObjects().addSelfProtectingClass(SharedDict);

// A dictionary crosses threads as its shared memory, which every thread maps.
codecs().register({
  kind: 'shared-dict',
  encode: (value) => SharedDict.markerOf(value),
  decode: (marker) => SharedDict.revive(marker),
});
