import type { MessageDetails } from './codes';
import { codedError } from './coded-error';

/**
 * What a {@link SharedDictError} is about: a full dictionary (`ERR_SHARED_DICT_FULL`), a key that
 * is neither a string nor a number (`ERR_SHARED_DICT_KEY`), or a shareable value a dictionary
 * cannot hold, such as a monitor reference (`ERR_SHARED_DICT_VALUE`).
 *
 * @example
 * ```ts
 * const code: SharedDictErrorCode = error.code; // 'ERR_SHARED_DICT_FULL'
 * ```
 */
export type SharedDictErrorCode = 'ERR_SHARED_DICT_FULL' | 'ERR_SHARED_DICT_KEY' | 'ERR_SHARED_DICT_VALUE';

/**
 * A `SharedDict` refused a write or a key: it is full (the message names the limit to raise), the
 * key is not a string or a number, or the value holds a monitor reference, a channel, a token or
 * shared memory, which belong in a monitor instead. Values that are not shareable at all are
 * refused with a `ShareabilityError`.
 *
 * @example
 * ```ts
 * try {
 *   cache.set(url, page);
 * } catch (error) {
 *   if (error instanceof SharedDictError && error.code === 'ERR_SHARED_DICT_FULL') cache.clear();
 *   else throw error;
 * }
 * ```
 */
export class SharedDictError<C extends SharedDictErrorCode = SharedDictErrorCode> extends codedError(Error, 'SharedDictError') {
  /** The stable code of this failure. */
  declare readonly code: C;

  constructor(code: C, ...details: MessageDetails<C>) {
    super(code, details);
  }
}
