import type { CancellationToken } from '../cancellation/cancellation-token';
import { DefinitionError } from '../errors/definition-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { slot } from '../runtime';
import { knownObjects } from '../shareability/known-objects';
import { ambientContext, runInContext } from '../cancellation/current-token';
import { exportReference } from '../monitor/exported-monitors';
import type { MonitorEndpoint } from '../monitor/monitor-endpoint';
import { endpointOf } from '../monitor/reference';
import { reviveReference } from '../monitor/remote-monitor';
import { codecs } from '../threads/codec-registry';
import { ChannelCore } from './channel-core';

/**
 * Options of a channel's waits.
 *
 * @example
 * ```ts
 * const line = await lines.get({ token: CancellationToken.fromSignal(AbortSignal.timeout(1000)) });
 * ```
 */
export interface ChannelWaitOptions {
  /**
   * Ends the wait with a `CancelledError` when cancelled; a value not yet put or taken is not.
   * @default currentToken(): the running child's, call's or branch body's token
   */
  readonly token?: CancellationToken;
}

/**
 * A bounded queue between threads, for producers and consumers: `put` waits while it is full,
 * `get` while it is empty, and `close()` ends it (puts then fail; gets take what is left, then
 * fail; `for await` ends). A channel is shareable: pass it to children and monitors on any
 * thread, and each value it carries must be shareable too. Values come out in the order they
 * went in, each exactly once, however many producers and consumers there are.
 *
 * Waits end with a `CancelledError` when their token is cancelled, and are seen by the deadlock
 * detector when the channel's other side is one monitor turn: a consumer waiting for a value
 * that only a producer blocked on that consumer could put rejects with a `DeadlockError`.
 *
 * A wait does not keep the process alive. `dumpMonitors()` shows every wait, how long it has
 * lasted and why it may never end. When the process is about to exit with a wait pending (nothing
 * left could end it), a `SAFETHREAD_CHANNEL_WAIT` warning names it, instead of a silent exit with
 * the awaiting code never resumed. What is not reported, because it cannot be told from a wait
 * that will end: a wait while something keeps the process alive (a server, a timer, other work,
 * or the worker thread a channel made there lives on), since a consumer idle for hours is
 * normal. `dumpMonitors()` shows such a wait, with its age.
 *
 * @example
 * ```ts
 * const lines = new Channel<string>(100);
 * await branch((children) => {
 *   children.add(produceLines, lines);           // await lines.put(line) ... then await lines.close()
 *   children.add(async (input: Channel<string>) => {
 *     let count = 0;
 *     for await (const line of input) count += line.length;
 *     return count;
 *   }, lines);
 * });
 * ```
 */
export class Channel<T> implements AsyncIterable<T> {
  /** How many values it holds before `put` waits. */
  declare readonly capacity: number;

  /** @param capacity - how many values it holds before `put` waits: a whole number from 1 up */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new DefinitionError('ERR_INVALID_OPTION', 'new Channel(capacity)', 'capacity', 'a whole number from 1 up', String(capacity));
    }
    adopt(this, new ChannelCore(capacity), capacity);
  }

  /**
   * The channel for a core that arrived from another thread: the same channel, reached from here.
   * @internal
   */
  static revive<T>(core: object, capacity: number): Channel<T> {
    const channel = Object.create(Channel.prototype) as Channel<T>;
    adopt(channel, core, capacity);
    return channel;
  }

  /** Adds a value, waiting while the channel is full; fails with `ChannelClosedError` once it is closed. */
  put(value: T, options: ChannelWaitOptions = {}): Promise<void> {
    return underToken(options.token, () => coreOf(this).put(value));
  }

  /** Takes the oldest value, waiting while the channel is empty; fails with `ChannelClosedError` once it is closed and empty. */
  get(options: ChannelWaitOptions = {}): Promise<T> {
    return underToken(options.token, () => coreOf(this).get() as Promise<T>);
  }

  /** Closes the channel. Closing twice is fine. */
  close(): Promise<void> {
    return coreOf(this).close();
  }

  /** Takes values until the channel is closed and empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let value: T;
      try {
        value = await this.get();
      } catch (error) {
        if (error instanceof ChannelClosedError && error.code === 'ERR_CHANNEL_DRAINED') return;
        throw error;
      }
      yield value;
    }
  }
}

/** Makes `channel` the handle of `core`: frozen, self-protecting, and known to the serializer. */
function adopt(channel: Channel<unknown>, core: object, capacity: number): void {
  Object.defineProperty(channel, 'capacity', { value: capacity, enumerable: true });
  channelHandles().add(channel, { core, capacity });
  knownObjects().addSelfProtecting(channel);
  Object.freeze(channel);
}

function coreOf(channel: Channel<unknown>): ChannelCore {
  return (channelHandles().find(channel) as { core: ChannelCore }).core;
}

/** The core (a monitor reference) and capacity behind each channel handle on this thread. */
class ChannelHandles {
  readonly #handles = new WeakMap<object, ChannelHandle>();

  add(channel: object, handle: ChannelHandle): void {
    this.#handles.set(channel, handle);
  }

  find(channel: object): ChannelHandle | undefined {
    return this.#handles.get(channel);
  }
}

interface ChannelHandle {
  readonly core: object;
  readonly capacity: number;
}

const channelHandles = slot('channel handles', () => new ChannelHandles());

/** Runs a wait under the given token instead of the ambient one. */
function underToken<R>(token: CancellationToken | undefined, wait: () => Promise<R>): Promise<R> {
  if (token === undefined) return wait();
  return runInContext({ ...ambientContext(), token }, wait);
}

knownObjects().addSelfProtectingClass(Channel);

// A channel crosses threads as its core, a monitor on the thread that made the channel. Only the
// start-up files import this module, so it never loads while the decorators that define the core do.
codecs().register({
  kind: 'channel',
  encode(value) {
    const channel = channelHandles().find(value);
    if (channel === undefined) return undefined;
    const core = exportReference(endpointOf(channel.core) as MonitorEndpoint);
    return { kind: 'channel', core, capacity: channel.capacity };
  },
  decode: (marker) => Channel.revive(reviveReference(marker.core), marker.capacity),
});
