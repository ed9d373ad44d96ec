import { availableParallelism } from 'node:os';
import type Piscina from 'piscina';
import { branch, configure, shutdown } from '../lib';
import { SpinWorkers, startPiscina } from './anchors';
import type { Comparison } from './comparison';
import { spinTask } from './fixtures';
import { spin } from './workers/spin';

/**
 * CPU-bound children on every core: a branch of {@link CHILDREN} children, each about
 * {@link CHILD_MS} ms of pure integer arithmetic (bench/workers/spin.js), on a pool of
 * `os.availableParallelism()` threads, against the same {@link CHILDREN} calls one after the
 * other on the main thread. DESIGN.md wants a speedup of at least 0.9 x N; piscina running the
 * same function on as many threads is the anchor of what a task pool achieves, and N bare
 * workers that each run their share in one message are the ceiling of what N threads of this
 * machine can do at all (2 vCPUs may well not be 2 cores' worth of throughput).
 *
 * One operation is the whole set of children, so `time/op` is the time of one branch.
 */

const CHILDREN = 8;
const CHILD_MS = 5;
const THREADS = availableParallelism();
/** The speedup DESIGN.md asks for, as a bound on `time of the branch / time of the serial run`. */
const SPEEDUP_TARGET = 0.9 * THREADS;

const SERIAL = `serial: ${CHILDREN} x spin on the main thread`;
const BRANCH = `safethread branch: ${CHILDREN} children on ${THREADS} threads`;
const PISCINA = `piscina: ${CHILDREN} tasks on ${THREADS} threads`;
const CEILING = `ceiling: ${CHILDREN} spins shared by ${THREADS} bare workers`;

/** How many spin steps take about `ms` milliseconds on this thread now. */
function calibrateSpin(ms: number): number {
  let steps = 100_000;
  for (;;) {
    const start = process.hrtime.bigint();
    spin(steps);
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsedMs >= 20) return Math.round((steps * ms) / elapsedMs);
    steps *= 2;
  }
}

export function cpuChildren(): Comparison {
  let steps = 0;
  let piscina: Piscina<number, number> | undefined;
  let ceiling: SpinWorkers | undefined;
  let sink = 0;

  /** Ends every thread this comparison started, also after a failed setUp. */
  const stop = async (): Promise<void> => {
    await Promise.allSettled([piscina?.destroy(), ceiling?.close(), shutdown()]);
  };
  const add = (results: readonly number[]): void => {
    for (const result of results) sink = (sink + result) | 0;
  };
  const runBranch = async (): Promise<void> => add(await branch<number>((children) => {
    for (let i = 0; i < CHILDREN; i++) children.add(spinTask, steps);
  }));

  return {
    name: 'cpu-children',
    summary: `${CHILDREN} CPU-bound children of ~${CHILD_MS} ms each (pure integer loop) on N = ${THREADS} threads vs one after the other on the main thread; time/op is one whole set`,
    anchor: SERIAL,
    cases: [
      {
        name: SERIAL,
        run: (iterations) => {
          for (let i = 0; i < iterations; i++) {
            const results: number[] = [];
            for (let child = 0; child < CHILDREN; child++) results.push(spin(steps));
            add(results);
          }
        },
      },
      {
        name: BRANCH,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) await runBranch();
        },
      },
      {
        name: PISCINA,
        run: async (iterations) => {
          const pool = piscina;
          if (pool === undefined) throw new Error('cpu-children: measured before setUp');
          for (let i = 0; i < iterations; i++) add(await Promise.all(Array.from({ length: CHILDREN }, () => pool.run(steps))));
        },
      },
      {
        name: CEILING,
        run: async (iterations) => {
          const workers = ceiling;
          if (workers === undefined) throw new Error('cpu-children: measured before setUp');
          for (let i = 0; i < iterations; i++) add(await workers.run(steps, CHILDREN));
        },
      },
    ],
    targets: [
      {
        case: BRANCH,
        atMost: 1 / SPEEDUP_TARGET,
        label: `speedup >= 0.9 x ${THREADS} = ${SPEEDUP_TARGET.toFixed(1)}x (time <= ${(1 / SPEEDUP_TARGET).toFixed(2)}x serial)`,
      },
    ],
    options: { sampleMs: 100, rounds: 12, warmupMs: 500 },
    setUp: async () => {
      // Warm the loop up before calibrating it, then size one child at about CHILD_MS.
      calibrateSpin(CHILD_MS);
      steps = calibrateSpin(CHILD_MS);
      configure({ threads: THREADS });
      try {
        [piscina, ceiling] = await Promise.all([startPiscina<number, number>('spin', THREADS, 1000), SpinWorkers.start(THREADS)]);
        // Starts every pool thread (and loads the task module there) before anything is measured.
        await runBranch();
        await runBranch();
      } catch (error) {
        await stop();
        throw error;
      }
    },
    tearDown: async () => {
      await stop();
      if (sink === 0) throw new Error('cpu-children: the children computed nothing');
    },
  };
}
