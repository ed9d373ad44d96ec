import { codedError } from './coded-error';

/**
 * Which use of a closed channel failed.
 *
 * @example
 * ```ts
 * const code: ChannelClosedErrorCode = error.code; // 'ERR_CHANNEL_CLOSED' after put, 'ERR_CHANNEL_DRAINED' after get
 * ```
 */
export type ChannelClosedErrorCode = 'ERR_CHANNEL_CLOSED' | 'ERR_CHANNEL_DRAINED';

/**
 * A channel was closed: `put` fails at once (`ERR_CHANNEL_CLOSED`), and `get` fails once the
 * values put before the close are all taken (`ERR_CHANNEL_DRAINED`). `for await` over a channel
 * ends quietly at that point instead.
 *
 * @example
 * ```ts
 * try {
 *   await channel.put(42);
 * } catch (error) {
 *   if (error instanceof ChannelClosedError) console.log('the consumer stopped');
 * }
 * ```
 */
export class ChannelClosedError extends codedError(Error, 'ChannelClosedError') {
  /** The stable code of this failure. */
  declare readonly code: ChannelClosedErrorCode;

  constructor(code: ChannelClosedErrorCode, channel: string) {
    super(code, [channel]);
  }
}
