import type { TransferListItem } from 'node:worker_threads';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { exportReference } from '../monitor/exported-monitors';
import { reviveReference } from '../monitor/remote-monitor';
import { runtime } from '../runtime';
import { isArrayPrototype, isPlainPrototype } from '../shareability/check';
import { freezeDeeply } from '../shareability/freeze';
import { findShareableClass } from '../decorators/shareable';
import { CancellationToken } from '../cancellation/cancellation-token';
import type { Encoded, Special, TokenMarker } from './protocol';
import type { MonitorEndpoint } from '../monitor/monitor-endpoint';

/**
 * Values on their way between threads.
 *
 * Every value has passed the shareability check before it gets here. Plain data goes by
 * structured clone as it is; a large plain value is serialized once and the bytes shared by every
 * later send. Monitor references and `@shareable` instances cannot go by structured clone, so
 * they travel beside the data as markers with the path where they belong (never inside it, so
 * no user data can pose as one). What arrives is frozen again and remembered as verified: the
 * receiver holds a value that behaves exactly like the sender's.
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
  const size = runtime.plainDataSizes.get(value);
  if (size !== undefined) return size >= SERIALIZE_ONCE_FROM ? serializedOnce(value) : { plain: value };
  const specials: Special[] = [];
  const copy = copyWithout(value, [], specials);
  return specials.length === 0 ? { plain: value } : { value: copy, specials };
}

function serializedOnce(value: object): Encoded {
  let cached = runtime.serializedValues.get(value);
  if (cached === undefined) {
    const bytes = serialize(value);
    const shared = new SharedArrayBuffer(bytes.length);
    new Uint8Array(shared).set(bytes);
    cached = { bytes: shared, length: bytes.length };
    runtime.serializedValues.set(value, cached);
  }
  return cached;
}

/** A copy of `value` with every reference and @shareable instance replaced by null and listed in `specials`. */
function copyWithout(value: unknown, path: (string | number)[], specials: Special[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (runtime.plainDataSizes.has(value)) return value;
  if (value instanceof CancellationToken) {
    const { memory, id, ancestors } = value.shared;
    const marker = { kind: 'token', id, memory: memory?.buffer as SharedArrayBuffer | undefined, ancestors: ancestors.map((ancestor) => ancestor.buffer as SharedArrayBuffer) } as const;
    specials.push({ path: [...path], marker });
    return null;
  }
  const channel = runtime.channelCores.get(value);
  if (channel !== undefined) {
    const core = exportReference(runtime.references.get(channel.core) as MonitorEndpoint);
    specials.push({ path: [...path], marker: { kind: 'channel', core, capacity: channel.capacity } });
    return null;
  }
  const endpoint = runtime.references.get(value);
  if (endpoint !== undefined) {
    specials.push({ path: [...path], marker: exportReference(endpoint) });
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
  const shareable = runtime.shareablePlans.get((prototype as { constructor: Function }).constructor);
  if (shareable !== undefined) {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(value)) fields[key] = (value as Record<string, unknown>)[key];
    const fieldSpecials: Special[] = [];
    const fieldsCopy = copyWithout(fields, [], fieldSpecials);
    specials.push({
      path: [...path],
      marker: {
        kind: 'shareable',
        location: shareable.location,
        fields: fieldSpecials.length === 0 ? { plain: fieldsCopy } : { value: fieldsCopy, specials: fieldSpecials },
      },
    });
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
    const revived = reviveSpecial(marker);
    if (path.length === 0) value = revived;
    else setAt(value, path, revived);
  }
  return settle(value, false);
}

function reviveSpecial(marker: Special['marker']): unknown {
  switch (marker.kind) {
    case 'monitor':
      return reviveReference(marker);
    case 'token':
      return reviveToken(marker);
    case 'channel': {
      // Loaded on first use: the channel module defines a monitor, which needs the decorators ready.
      const { Channel } = require('../channel/channel') as typeof import('../channel/channel');
      return Channel.revive(reviveReference(marker.core), marker.capacity);
    }
    case 'shareable':
      return reviveShareable(marker.location, decode(marker.fields) as Record<string, unknown>);
  }
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let parent = root as Record<string | number, unknown>;
  for (let index = 0; index < path.length - 1; index++) parent = parent[path[index] as string | number] as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
}

/** The token for a marker that arrived: one object per token on each thread, over the same shared memory. */
function reviveToken(marker: TokenMarker): CancellationToken {
  if (marker.memory === undefined) return CancellationToken.none;
  const known = runtime.tokensById.get(marker.id)?.deref();
  if (known !== undefined) return known;
  const ancestors = marker.ancestors.map((buffer) => new Int32Array(buffer));
  const token = new CancellationToken(new Int32Array(marker.memory), marker.id, false, ancestors);
  runtime.rememberToken(token);
  return token;
}

function reviveShareable(location: Parameters<typeof findShareableClass>[0], fields: Record<string, unknown>): object {
  const plan = findShareableClass(location);
  const instance = Object.create(plan.decorated.prototype as object) as object;
  for (const key of Object.keys(fields)) {
    Object.defineProperty(instance, key, { value: fields[key], enumerable: true, writable: false, configurable: false });
  }
  Object.freeze(instance);
  runtime.verifiedShareable.add(instance);
  return instance;
}

/**
 * Freezes what arrived and remembers it as verified, so it is shareable onwards at no cost; plain
 * data is remembered as such, with a rough size, so that sending it on takes the fast path.
 */
function settle(value: unknown, plain: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = new Set<object>();
  freezeDeeply(value, seen, true);
  let size = 0;
  for (const object of seen) {
    runtime.verifiedShareable.add(object);
    size += Array.isArray(object) ? object.length : 1;
  }
  if (plain && seen.has(value)) runtime.plainDataSizes.set(value, size);
  return value;
}
