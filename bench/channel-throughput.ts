import { availableParallelism } from 'node:os';
import { branch, Channel, configure, shutdown, type Child } from '../lib';
import { PINNING_NOTE, pinToOneCpu } from './affinity';
import { NumberPipe } from './anchors';
import type { Comparison } from './comparison';
import { putNumbers, takeNumbers } from './stream-fixtures';

/**
 * Channel throughput across threads: numbers put into a `Channel` by producers and taken by
 * consumers, one producer and one consumer, then two of each, every one a branch child on a pool
 * thread of its own (bench/stream-fixtures.ts), against two bare workers streaming the same
 * numbers over a MessagePort of their own.
 *
 * A channel's values go through shared memory (lib/channel/channel.ts): a put or get that finds
 * room or a value does not send a message; one that finds the channel full or empty waits on its
 * own thread for a change, and only one that lasts tells the channel's core (here on the main
 * thread). The raw anchor posts each value once, straight from producer to consumer. The anchor is bounded like the channel (bench/workers/channel-worker.js): the
 * producer may have at most {@link CAPACITY} values posted and not yet taken, and the consumer
 * gives credit back every {@link CAPACITY} / 2 values. Plain unbounded posting, the upper limit
 * of the port, is shown for context. Both channel cases are divided by the one-pipe anchor:
 * pinned to one CPU, a second raw pipe adds no throughput. The target (issue 13): each channel
 * case within {@link WITHIN}x the anchor's time per value. `channel-throughput-unpinned` runs the
 * same cases as a user does, on every CPU.
 *
 * One operation is one value: each sample is one run (for safethread, one branch, its start-up
 * and the channel's close included) carrying as many values as the sample's iterations, and the
 * run checks that every value arrived exactly once (by count and sum). The process is pinned to
 * one CPU, as for cross-thread-call, so every case pays the same thread wake-ups.
 */

/** The channel's capacity, and the raw anchor's window of values in flight. */
const CAPACITY = 64;
/** The most producers (and consumers) of a case: the pool has a thread for each child. */
const MOST_PAIRS = 2;

const RAW = `raw MessagePort, 1 producer -> 1 consumer, window ${CAPACITY}`;
const ONE = `safethread Channel(${CAPACITY}), 1 producer x 1 consumer`;
const TWO = `safethread Channel(${CAPACITY}), 2 producers x 2 consumers`;
const UNBOUNDED = 'raw MessagePort, unbounded posting (upper limit)';

function sumBelow(count: number): number {
  return (count * (count - 1)) / 2;
}

/** The target of issue 13: a channel within 3x a raw MessagePort stream's time per value. */
const WITHIN = 3;

/** The same cases unpinned, as a user runs: threads on both CPUs. */
export function channelThroughputUnpinned(): Comparison {
  return channelThroughput(false);
}

export function channelThroughput(pinned = true): Comparison {
  let bounded: NumberPipe | undefined;
  let unbounded: NumberPipe | undefined;
  let unpin: () => void = () => {};
  let sink = 0;

  /** Ends every thread this comparison started (also after a failed setUp), restores the pool size and unpins the process. */
  const stop = async (): Promise<void> => {
    try {
      await Promise.allSettled([bounded?.close(), unbounded?.close(), shutdown()]);
      configure({ threads: availableParallelism() });
    } finally {
      unpin();
    }
  };
  const check = (taken: number, sum: number, count: number, what: string): void => {
    if (taken !== count || sum !== sumBelow(count)) throw new Error(`channel-throughput: ${what} took ${taken} values summing to ${sum}, not ${count} summing to ${sumBelow(count)}`);
    sink += sum;
  };
  const raw = async (pipe: NumberPipe | undefined, count: number): Promise<void> => {
    if (pipe === undefined) throw new Error('channel-throughput: measured before setUp');
    check(count, await pipe.run(count), count, 'the raw consumer');
  };

  /** One branch: `pairs` producers put `0 .. count - 1` between them, `pairs` consumers take until the channel is closed. */
  const carry = async (pairs: number, count: number): Promise<void> => {
    const channel = new Channel<number>(CAPACITY);
    const results = await branch<number | readonly [number, number]>((children) => {
      const producers: Child<number>[] = [];
      for (let index = 0; index < pairs; index++) {
        producers.push(children.add(putNumbers, channel, Math.floor((count * index) / pairs), Math.floor((count * (index + 1)) / pairs)));
      }
      for (let index = 0; index < pairs; index++) children.add(takeNumbers, channel);
      children.addLocal(async () => {
        await Promise.all(producers.map((producer) => producer.result));
        await channel.close();
        return 0;
      });
    });
    let taken = 0;
    let sum = 0;
    for (const [consumerCount, consumerSum] of results.slice(pairs, 2 * pairs) as (readonly [number, number])[]) {
      taken += consumerCount;
      sum += consumerSum;
    }
    check(taken, sum, count, 'the consumers');
  };

  return {
    name: pinned ? 'channel-throughput' : 'channel-throughput-unpinned',
    summary:
      `values/s through a Channel(${CAPACITY}) with 1 producer x 1 consumer and 2 x 2, each a branch child on a pool thread of its own, ` +
      `vs a raw MessagePort stream between two bare workers bounded the same way (at most ${CAPACITY} values in flight, consumer acks every ${CAPACITY / 2}); ` +
      `time/op is per value, a run's start-up included; ${pinned ? PINNING_NOTE : 'process not pinned, as a user runs'}`,
    anchor: RAW,
    cases: [
      { name: RAW, run: (iterations) => raw(bounded, iterations) },
      { name: ONE, run: (iterations) => carry(1, iterations) },
      { name: TWO, run: (iterations) => carry(2, iterations) },
      { name: UNBOUNDED, run: (iterations) => raw(unbounded, iterations) },
    ],
    targets: [
      { case: ONE, atMost: WITHIN, label: `within ${WITHIN}x of a raw MessagePort stream` },
      { case: TWO, atMost: WITHIN, label: `within ${WITHIN}x of a raw MessagePort stream` },
    ],
    // A run starts a branch (tens of ms on a busy machine): samples long enough that the start-up
    // is a small part of each, or calibration stays at one value per run and measures start-ups.
    options: { sampleMs: 400, warmupMs: 1500, rounds: 5 },
    setUp: async () => {
      if (pinned) unpin = pinToOneCpu();
      // A pool thread for each child, as the raw producer and consumer each have a worker of their own.
      configure({ threads: 2 * MOST_PAIRS });
      [bounded, unbounded] = await Promise.all([NumberPipe.start(CAPACITY), NumberPipe.start(0)]);
      // Starts every pool thread (and loads the task module there) before anything is measured.
      await carry(MOST_PAIRS, 1000);
      await carry(1, 1000);
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('channel-throughput: no value was carried');
    },
  };
}
