import { slot, thisThread } from '../runtime';
import type { Encoded, SpecialMarker } from './protocol';

/**
 * Codecs: how each kind of value that structured clone cannot carry crosses threads (like
 * Comlink's transfer handlers).
 *
 * The serializer (serialize.ts) asks the codecs about each object it meets on its walk; the first
 * codec that claims one gives the marker that travels in its place, and on arrival the codec of
 * the marker's kind turns the marker back into a value. Each special value registers its own
 * codec when its module loads: tokens in cancellation/cancellation-token.ts, monitor references
 * in monitor/exported-monitors.ts, channels in channel/channel.ts, `@shareable` instances in
 * decorators/shareable.ts. The start-up files make every codec available before the first value
 * arrives: index.ts loads all of them; threads/worker-entry.ts loads those a worker always needs and
 * names the modules of the others ({@link CodecRegistry.loadOnArrival}), so that a worker that never
 * receives a channel, lock, shared dict or `@shareable` instance never loads their code. Values of
 * those kinds made on a thread need no such help: making one loaded its module, and its codec.
 */

/** The kinds of special values, as their markers name them. */
export type MarkerKind = SpecialMarker['kind'];

/** The marker of one kind. */
export type MarkerOf<K extends MarkerKind> = Extract<SpecialMarker, { readonly kind: K }>;

/**
 * How a codec carries values inside its marker (a `@shareable` instance's fields): as part of the
 * value being sent, so that an object (or special value) the marker shares with the rest of that
 * value arrives as one object, not as a copy of its own.
 */
export interface NestedEncoding {
  encode(value: object): Encoded;
}

/** How a codec reads the values inside its marker: as part of the value being read (see {@link NestedEncoding}). */
export interface NestedDecoding {
  decode(encoded: Encoded): unknown;
}

/** How one kind of special value crosses threads. */
export interface Codec<K extends MarkerKind = MarkerKind> {
  readonly kind: K;
  /** The marker that carries `value`, when it is this codec's kind of value (the codec claims it); else undefined. */
  encode(value: object, nested: NestedEncoding): MarkerOf<K> | undefined;
  /** The value for a marker that arrived: the object that stands for it on this thread. */
  decode(marker: MarkerOf<K>, nested: NestedDecoding): unknown;
}

/** A codec of one of the kinds, which types each codec's markers by its `kind`. */
type OneKindCodec = { readonly [K in MarkerKind]: Codec<K> }[MarkerKind];

/**
 * When the codecs are asked about an object, in the order listed: tokens, channels and references
 * are claimed before the serializer walks arrays and plain objects, whatever they look like;
 * `@shareable` instances, recognised by their class, only among objects that are neither.
 */
const ORDER: { readonly [K in MarkerKind]: 'before walking' | 'after walking' } = {
  token: 'before walking',
  channel: 'before walking',
  'shared-dict': 'before walking',
  lock: 'before walking',
  monitor: 'before walking',
  shareable: 'after walking',
};

/** This thread's codecs (see {@link codecs}). */
export class CodecRegistry {
  readonly #byKind = new Map<MarkerKind, Codec>();
  #beforeWalking: readonly Codec[] = [];
  #afterWalking: readonly Codec[] = [];
  readonly #loaders = new Map<MarkerKind, () => void>();

  /** Adds the codec of its kind, in place of an earlier one of that kind. */
  register(codec: OneKindCodec): void {
    this.#byKind.set(codec.kind, codec as Codec);
    const ordered = (Object.keys(ORDER) as MarkerKind[]).flatMap((kind) => this.#byKind.get(kind) ?? []);
    this.#beforeWalking = ordered.filter((each) => ORDER[each.kind] === 'before walking');
    this.#afterWalking = ordered.filter((each) => ORDER[each.kind] === 'after walking');
  }

  /**
   * Names how to load the module that registers the codec of `kind`, for when a value of that kind
   * first arrives on this thread and its codec is not registered yet.
   */
  loadOnArrival(kind: MarkerKind, load: () => void): void {
    this.#loaders.set(kind, load);
  }

  /** The marker for `value` from the first codec that claims it before arrays and plain objects are walked. */
  claimBeforeWalking(value: object, nested: NestedEncoding): SpecialMarker | undefined {
    return claim(this.#beforeWalking, value, nested);
  }

  /** The marker for `value`, neither an array nor a plain object, from the first codec that claims it after walking. */
  claimAfterWalking(value: object, nested: NestedEncoding): SpecialMarker | undefined {
    return claim(this.#afterWalking, value, nested);
  }

  /** The value for a marker that arrived. */
  decode(marker: SpecialMarker, nested: NestedDecoding): unknown {
    const codec = this.#byKind.get(marker.kind) ?? this.#loaded(marker.kind);
    if (codec === undefined) {
      throw new Error(`safethread: a ${marker.kind} value arrived on ${thisThread().name}, which has no codec for it; the start-up files must load every module that registers one`);
    }
    return codec.decode(marker, nested);
  }

  /** The codec of `kind` after loading the module that registers it, when one was named. */
  #loaded(kind: MarkerKind): Codec | undefined {
    const load = this.#loaders.get(kind);
    if (load === undefined) return undefined;
    this.#loaders.delete(kind);
    load();
    return this.#byKind.get(kind);
  }
}

function claim(codecs: readonly Codec[], value: object, nested: NestedEncoding): SpecialMarker | undefined {
  for (const codec of codecs) {
    const marker = codec.encode(value, nested);
    if (marker !== undefined) return marker;
  }
  return undefined;
}

/** This thread's codec registry, made on first use. */
export const codecs = slot('codecs', () => new CodecRegistry());
