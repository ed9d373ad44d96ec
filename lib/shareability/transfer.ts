import { types } from 'node:util';
import { ShareabilityError } from '../errors/shareability-error';
import { slot } from '../runtime';
import { withArticle } from './with-article';

/**
 * Marks an `ArrayBuffer` to be moved, not copied, to the receiver of a monitor call (as a whole
 * argument or as a method's result). The sender's buffer is detached (its `byteLength` becomes
 * 0), so the bytes have exactly one owner: moving cannot be told apart from sharing.
 *
 * The marker is typed as the buffer itself, so it can be passed where the buffer is expected.
 *
 * @example
 * ```ts
 * const pixels = new ArrayBuffer(1024);
 * await renderer.draw(transfer(pixels));
 * pixels.byteLength; // 0: the renderer owns the bytes now
 * ```
 */
export function transfer<T extends ArrayBuffer>(buffer: T): T {
  if (!types.isArrayBuffer(buffer)) {
    throw new ShareabilityError(
      'ERR_NOT_SHAREABLE',
      'transfer(buffer): buffer',
      '',
      `${describe(buffer)}, not an ArrayBuffer`,
      types.isSharedArrayBuffer(buffer) ? 'a SharedArrayBuffer is shared as it is; pass it without transfer()' : 'pass an ArrayBuffer, e.g. view.buffer',
    );
  }
  const marker = Object.freeze(Object.create(null) as object);
  transferMarkers().add(marker, buffer);
  return marker as T;
}

/** Whether a value is a `transfer()` marker. */
export function isTransfer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && isTransferMarker(value);
}

/** Whether an object is a `transfer()` marker (telling nothing about the object when it is not). */
export function isTransferMarker(object: object): boolean {
  return transferMarkers().has(object);
}

/**
 * Moves the buffer behind a marker and returns the receiver's copy; the sender's is detached.
 * A marker moves its buffer once.
 */
export function receiveTransfer(marker: object, where: string): ArrayBuffer {
  const buffer = transferMarkers().take(marker);
  if (buffer === undefined) throw new ShareabilityError('ERR_TRANSFER_USED', where);
  return structuredClone(buffer, { transfer: [buffer] });
}

/** The markers made by `transfer(buffer)` on this thread, and whether each has moved its buffer yet. */
class TransferMarkers {
  readonly #markers = new WeakMap<object, { readonly buffer: ArrayBuffer; used: boolean }>();

  add(marker: object, buffer: ArrayBuffer): void {
    this.#markers.set(marker, { buffer, used: false });
  }

  has(value: object): boolean {
    return this.#markers.has(value);
  }

  /** The buffer a marker moves, the first time it is asked and only while the buffer is still there; else undefined. */
  take(marker: object): ArrayBuffer | undefined {
    const state = this.#markers.get(marker);
    if (state === undefined || state.used || isDetached(state.buffer)) return undefined;
    state.used = true;
    return state.buffer;
  }
}

const transferMarkers = slot('transfer markers', () => new TransferMarkers());

/** Whether a buffer's bytes were already moved away (Node 20 has no `ArrayBuffer.prototype.detached`). */
export function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength > 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return withArticle(typeof value);
  return withArticle((value as object).constructor?.name ?? 'object');
}
