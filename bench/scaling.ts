import { branch, configure, shutdown } from '../lib';
import { incrementTask } from './children-tasks';
import type { BenchCase, Comparison, Target } from './comparison';

/**
 * How cost grows with size: the same work at 1k, 10k and 100k, each row one whole batch (time/op),
 * so that the "vs anchor" column reads directly against the size (a 10x bigger batch should cost
 * about 10x). A row's target bounds its cost per item at {@link LINEAR_SLACK} times the smallest
 * batch's of its kind: the cost grows linearly, not with the square of the queue.
 *
 * `npm run bench:scaling` (or `npm run bench -- scaling`). Each kind of work is a group of rows
 * in {@link GROUPS}; channel values (1k, 10k) are another group, added beside the children's.
 */

const THREADS = 2;
/** How much more a bigger batch may cost per item than the smallest of its group. */
const LINEAR_SLACK = 1.5;

/** One kind of work, at several sizes. */
interface ScalingGroup {
  /** Names the rows: `${kind}: 10,000 ...`. */
  readonly kind: string;
  readonly sizes: readonly number[];
  /** Runs one batch of `size` items. */
  readonly run: (size: number) => Promise<void>;
  readonly setUp?: () => Promise<void>;
  readonly tearDown?: () => Promise<void>;
}

let sink = 0;

const children: ScalingGroup = {
  kind: 'children in one branch',
  sizes: [1_000, 10_000, 100_000],
  run: async (size) => {
    const values = await branch<number>((added) => {
      for (let n = 0; n < size; n++) added.add(incrementTask, n);
    });
    sink += values[size - 1] ?? 0;
  },
  setUp: async () => {
    configure({ threads: THREADS });
    await branch((added) => {
      for (let n = 0; n < THREADS * 4; n++) added.add(incrementTask, n);
    });
  },
  tearDown: () => shutdown(),
};

/** The kinds of work measured; channel values (1k, 10k) go here beside the children. */
const GROUPS: readonly ScalingGroup[] = [children];

function rowName(group: ScalingGroup, size: number): string {
  return `${group.kind}: ${size.toLocaleString('en')}`;
}

export function scaling(): Comparison {
  const cases: BenchCase[] = GROUPS.flatMap((group) =>
    group.sizes.map((size): BenchCase => ({
      name: rowName(group, size),
      run: async (iterations) => {
        for (let i = 0; i < iterations; i++) await group.run(size);
      },
    })),
  );
  const targets: Target[] = GROUPS.flatMap((group) => {
    const smallest = Math.min(...group.sizes);
    return group.sizes
      .filter((size) => size !== smallest)
      .map(
        (size): Target => ({
          case: rowName(group, size),
          versus: rowName(group, smallest),
          atMost: (size / smallest) * LINEAR_SLACK,
          label: `linear: per item <= ${LINEAR_SLACK}x the ${smallest.toLocaleString('en')} batch's (time <= ${((size / smallest) * LINEAR_SLACK).toFixed(0)}x)`,
        }),
      );
  });
  return {
    name: 'scaling',
    summary: `1k, 10k and 100k of each kind of work on ${THREADS} threads, unpinned; time/op is one whole batch (÷ its size for one item)`,
    anchor: rowName(children, 1_000),
    cases,
    targets,
    // One batch per sample: the biggest takes seconds.
    options: { rounds: 5, sampleMs: 1, warmupMs: 1 },
    setUp: async () => {
      for (const group of GROUPS) await group.setUp?.();
    },
    tearDown: async () => {
      for (const group of GROUPS) await group.tearDown?.();
      if (!(sink > 0)) throw new Error('scaling: the batches computed nothing');
    },
  };
}
