import { branch, Channel, configure, shutdown, type Child } from '../lib';
import type { BenchCase, Comparison, Target } from './comparison';
import { putNumbers, takeNumbers } from './stream-fixtures';

/**
 * How a channel's cost grows with the number of values: 1,000 and 10,000 numbers through one
 * Channel(64), one producer and one consumer, each a branch child on a pool thread of its own,
 * unpinned as a user runs. Each row is one whole batch (time/op: a branch, its start-up and the
 * channel's close included), so "vs anchor" reads against the size: 10x the values should cost
 * about 10x. The target bounds the cost per value of the bigger batch at {@link LINEAR_SLACK}
 * times the smaller's.
 *
 * The rows of bench/scaling.ts for channel values, in a comparison of their own
 * (`npm run bench -- scaling-channel`; `npm run bench -- scaling` runs both).
 */

const CAPACITY = 64;
const THREADS = 2;
const SIZES = [1_000, 10_000] as const;
/** How much more a bigger batch may cost per value than the smallest. */
const LINEAR_SLACK = 1.5;

let sink = 0;

function rowName(size: number): string {
  return `channel values: ${size.toLocaleString('en')}`;
}

/** One batch: `size` numbers put by one child and taken by another; checks each arrived once. */
async function carry(size: number): Promise<void> {
  const channel = new Channel<number>(CAPACITY);
  const results = await branch<number | readonly [number, number]>((children) => {
    const producer: Child<number> = children.add(putNumbers, channel, 0, size);
    children.add(takeNumbers, channel);
    children.addLocal(async () => {
      await producer.result;
      await channel.close();
      return 0;
    });
  });
  const [count, sum] = results[1] as readonly [number, number];
  if (count !== size || sum !== (size * (size - 1)) / 2) throw new Error(`scaling-channel: took ${count} values summing to ${sum}, not ${size}`);
  sink += sum;
}

export function scalingChannel(): Comparison {
  const smallest = Math.min(...SIZES);
  const cases: BenchCase[] = SIZES.map((size) => ({
    name: rowName(size),
    run: async (iterations) => {
      for (let i = 0; i < iterations; i++) await carry(size);
    },
  }));
  const targets: Target[] = SIZES.filter((size) => size !== smallest).map((size) => ({
    case: rowName(size),
    versus: rowName(smallest),
    atMost: (size / smallest) * LINEAR_SLACK,
    label: `linear: per value <= ${LINEAR_SLACK}x the ${smallest.toLocaleString('en')} batch's (time <= ${((size / smallest) * LINEAR_SLACK).toFixed(0)}x)`,
  }));
  return {
    name: 'scaling-channel',
    summary: `1k and 10k values through a Channel(${CAPACITY}), 1 producer x 1 consumer on ${THREADS} pool threads, unpinned; time/op is one whole batch (÷ its size for one value)`,
    anchor: rowName(smallest),
    cases,
    targets,
    options: { rounds: 5, sampleMs: 1, warmupMs: 1 },
    setUp: async () => {
      configure({ threads: THREADS });
      await carry(1000);
    },
    tearDown: async () => {
      await shutdown();
      if (!(sink > 0)) throw new Error('scaling-channel: no value was carried');
    },
  };
}
