import type Piscina from 'piscina';
import { branch, configure, shutdown } from '../lib';
import { startPiscina } from './anchors';
import { incrementTask } from './children-tasks';
import type { Comparison } from './comparison';

/**
 * Many trivial children in one branch: the cost of the pool itself per child (queueing, placing,
 * sending, settling), against piscina running the same trivial task with as many in flight.
 * Issue 13 wants at least piscina's throughput. Unpinned, as a user runs: every thread may go to
 * any CPU.
 *
 * One operation is the whole set of {@link CHILDREN}, so time/op divided by {@link CHILDREN} is the
 * time per child.
 */

const CHILDREN = 10_000;
const THREADS = 2;

const PISCINA = `piscina: ${CHILDREN.toLocaleString('en')} tasks run(n) in flight on ${THREADS} threads`;
const BRANCH = `safethread: ${CHILDREN.toLocaleString('en')} children in one branch on ${THREADS} threads`;

export function childrenThroughput(): Comparison {
  let piscina: Piscina<number, number> | undefined;
  let sink = 0;
  const stop = async (): Promise<void> => {
    await Promise.allSettled([piscina?.destroy(), shutdown()]);
  };
  const runBranch = async (): Promise<void> => {
    const values = await branch<number>((children) => {
      for (let n = 0; n < CHILDREN; n++) children.add(incrementTask, n);
    });
    sink += values[CHILDREN - 1] ?? 0;
  };

  return {
    name: 'children-throughput',
    summary: `${CHILDREN.toLocaleString('en')} trivial children in one branch vs as many piscina tasks in flight, ${THREADS} threads each, unpinned; time/op is the whole set (÷ ${CHILDREN.toLocaleString('en')} for one child)`,
    anchor: PISCINA,
    cases: [
      {
        name: PISCINA,
        run: async (iterations) => {
          const pool = piscina;
          if (pool === undefined) throw new Error('children-throughput: measured before setUp');
          for (let i = 0; i < iterations; i++) {
            const values = await Promise.all(Array.from({ length: CHILDREN }, (_, n) => pool.run(n)));
            sink += values[CHILDREN - 1] ?? 0;
          }
        },
      },
      {
        name: BRANCH,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) await runBranch();
        },
      },
    ],
    targets: [{ case: BRANCH, atMost: 1, label: "at least piscina's throughput" }],
    options: { rounds: 10, sampleMs: 200, warmupMs: 1000 },
    setUp: async () => {
      configure({ threads: THREADS });
      piscina = await startPiscina<number, number>('increment', THREADS, 0);
      // Starts every pool thread (and loads the task module there) before anything is measured.
      await runBranch();
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('children-throughput: the children computed nothing');
    },
  };
}
