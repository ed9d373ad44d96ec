import { slot } from '../runtime';

/**
 * What this thread has learned about frozen values: which are proven shareable, which of those are
 * plain data and how large, and the bytes of large plain values already serialized for sending.
 * A frozen value cannot change, so what is learned about one holds for its whole life: checking
 * it again, or any part of it, is a single lookup, and N sends serialize it once.
 *
 * The shareability check proves values; values that arrive from another thread, or `@shareable`
 * instances made there, are proven by how they came (threads/serialize.ts, decorators/shareable.ts).
 */
export class VerifiedValues {
  /** Verified values, each with how many levels it nests below itself: one table, so remembering a value is one write. */
  readonly #heights = new WeakMap<object, number>();
  /** Verified values made of plain data only (no references, no @shareable instances), with their size in properties. */
  readonly #plainDataSizes = new WeakMap<object, number>();
  readonly #serialized = new WeakMap<object, SerializedValue>();

  /** Whether `object` is proven deeply frozen and shareable. */
  has(object: object): boolean {
    return this.#heights.has(object);
  }

  /** @param height - how many levels the value nests below itself */
  add(object: object, height = 0): void {
    this.#heights.set(object, height);
  }

  /** How many levels a verified value nests below itself (0 when it is not verified). */
  height(object: object): number {
    return this.#heights.get(object) ?? 0;
  }

  /** The size of a verified value of plain data only, or undefined when it is not one. */
  plainDataSize(value: object): number | undefined {
    return this.#plainDataSizes.get(value);
  }

  isPlainData(value: object): boolean {
    return this.#plainDataSizes.has(value);
  }

  addPlainData(value: object, size: number): void {
    this.#plainDataSizes.set(value, size);
  }

  /** The bytes a large plain value was serialized to, if it was. */
  serialized(value: object): SerializedValue | undefined {
    return this.#serialized.get(value);
  }

  addSerialized(value: object, bytes: SerializedValue): void {
    this.#serialized.set(value, bytes);
  }
}

/** A value's serialized bytes, in memory every thread can read. */
export interface SerializedValue {
  readonly bytes: SharedArrayBuffer;
  readonly length: number;
}

/** This thread's verified values. */
export const verifiedValues = slot('verified values', () => new VerifiedValues());
