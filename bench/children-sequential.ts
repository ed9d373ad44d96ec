import type Piscina from 'piscina';
import { branch, configure, shutdown } from '../lib';
import { startPiscina } from './anchors';
import { incrementTask } from './children-tasks';
import type { Comparison } from './comparison';

/**
 * One child in flight at a time: the round trip of a single child (nothing to send ahead, nothing
 * to batch), against piscina running one trivial task at a time. Issue 13 wants it within 1.2x
 * of piscina's. Unpinned, as a user runs.
 *
 * One operation is one child (or task), awaited before the next starts.
 */

const THREADS = 2;

const PISCINA = `piscina: await run(n), one at a time, ${THREADS} threads`;
const ONE_BRANCH = `safethread: await children.add(fn, n).result, one at a time in one branch`;
const BRANCH_EACH = `safethread: await branch(...) of one child, one at a time`;

export function childrenSequential(): Comparison {
  let piscina: Piscina<number, number> | undefined;
  let sink = 0;
  const stop = async (): Promise<void> => {
    await Promise.allSettled([piscina?.destroy(), shutdown()]);
  };

  return {
    name: 'children-sequential',
    summary: `one trivial child in flight at a time vs piscina's sequential task, ${THREADS} threads each, unpinned; time/op is one child`,
    anchor: PISCINA,
    cases: [
      {
        name: PISCINA,
        run: async (iterations) => {
          const pool = piscina;
          if (pool === undefined) throw new Error('children-sequential: measured before setUp');
          for (let n = 0; n < iterations; n++) sink += await pool.run(n);
        },
      },
      {
        name: ONE_BRANCH,
        run: async (iterations) => {
          await branch(async (children) => {
            for (let n = 0; n < iterations; n++) sink += await children.add(incrementTask, n).result;
          });
        },
      },
      {
        name: BRANCH_EACH,
        run: async (iterations) => {
          for (let n = 0; n < iterations; n++) {
            const [value] = await branch<number>((children) => void children.add(incrementTask, n));
            sink += value ?? 0;
          }
        },
      },
    ],
    targets: [{ case: ONE_BRANCH, atMost: 1.2, label: "within 1.2x of piscina's sequential task" }],
    options: { rounds: 15, sampleMs: 50 },
    setUp: async () => {
      configure({ threads: THREADS });
      piscina = await startPiscina<number, number>('increment', THREADS, 0);
      // Starts the pool threads (and loads the task module there) before anything is measured.
      await branch((children) => {
        for (let n = 0; n < THREADS * 4; n++) children.add(incrementTask, n);
      });
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('children-sequential: the children computed nothing');
    },
  };
}
