import { SharedDictError } from '../errors/shared-dict-error';
import { KeyKind } from './dict-memory';

/**
 * Keys of a `SharedDict`: strings and numbers, told apart by kind (1 and '1' are two keys), with
 * -0 the same key as 0 (as in a Map). A string key is stored as its UTF-16 code units, so that it
 * is compared in place, without encoding it on every lookup.
 */

/** What a dictionary accepts as a key. */
export type DictKey = string | number;

/** Throws unless `key` is a string or a number other than NaN; returns it with -0 made 0. */
export function checkKey(key: unknown, where: string): DictKey {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' && !Number.isNaN(key)) return key === 0 ? 0 : key;
  throw new SharedDictError('ERR_SHARED_DICT_KEY', where, describe(key));
}

/** FNV-1a over the key's code units (or its integer value), seeded by its kind. */
export function hashKey(key: DictKey): number {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && key >= -0x80000000 && key <= 0x7fffffff) return mix(Math.imul(key ^ 0x5bd1e995, 0x01000193));
    return hashString(String(key), 0x2545f491);
  }
  return hashString(key, 0x811c9dc5);
}

function hashString(text: string, seed: number): number {
  let hash = seed;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return mix(hash);
}

/** Spreads the bits, so that the low ones (which pick the slot) depend on all of them. */
function mix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  return hash ^ (hash >>> 13);
}

export function keyKind(key: DictKey): number {
  return typeof key === 'string' ? KeyKind.STRING : KeyKind.NUMBER;
}

/** How a `set` of `key` is named in messages: `SharedDict.set("user:1")` or `SharedDict.set(42)`. */
export function whereSet(key: DictKey): string {
  return `SharedDict.set(${typeof key === 'string' ? JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key) : String(key)})`;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return 'NaN';
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'symbol') return `a symbol (${String(value)})`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `a bigint (${String(value)}n)`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
