import { availableParallelism } from 'node:os';
import type Piscina from 'piscina';
import { branch, configure, shutdown } from '../lib';
import { SpinWorkers, startPiscina } from './anchors';
import type { BenchCase, Comparison, MeasureOptions, Target } from './comparison';
import { stepsForMs } from './children-tasks';
import { spinTask } from './fixtures';
import { spin } from './workers/spin';

/**
 * CPU-bound children on every core: a branch of {@link CHILDREN} children, each a pure integer
 * loop (bench/workers/spin.js) of a few milliseconds, against the same calls one after the other
 * on the main thread, and against piscina running the same function on as many threads (what a
 * task pool achieves). Two shapes:
 *
 * - `cpu-children`: 5 ms children on `os.availableParallelism()` threads; DESIGN.md wants a
 *   speedup of at least 0.9 x N. N bare workers that each run their share in one message are the
 *   ceiling of what N threads of this machine can do at all (2 vCPUs may well not be 2 cores' worth).
 * - `children-cpu`: 1.2 ms children on 2 threads, unpinned, where a gap between one child and the
 *   next on a thread shows (a child sent ahead has none): issue 13 wants at least 1.9x, and at
 *   least piscina's speedup.
 *
 * One operation is the whole set of children, so `time/op` is the time of one branch.
 */

const CHILDREN = 8;

interface Shape {
  readonly name: string;
  readonly childMs: number;
  readonly threads: number;
  /** The speedup wanted, as a bound on `time of the branch / time of the serial run`. */
  readonly speedup: number;
  readonly speedupLabel: string;
  /** Also measure N bare workers, the ceiling. */
  readonly ceiling: boolean;
  /** Also require at least piscina's speedup. */
  readonly atLeastPiscina: boolean;
  readonly summary: string;
  readonly options: Partial<MeasureOptions>;
}

export function cpuChildren(): Comparison {
  const threads = availableParallelism();
  return cpuChildrenOf({
    name: 'cpu-children',
    childMs: 5,
    threads,
    speedup: 0.9 * threads,
    speedupLabel: `0.9 x ${threads} = ${(0.9 * threads).toFixed(1)}x`,
    ceiling: true,
    atLeastPiscina: false,
    summary: `${CHILDREN} CPU-bound children of ~5 ms each (pure integer loop) on N = ${threads} threads vs one after the other on the main thread; time/op is one whole set`,
    options: { sampleMs: 100, rounds: 12, warmupMs: 500 },
  });
}

export function childrenCpu(): Comparison {
  return cpuChildrenOf({
    name: 'children-cpu',
    childMs: 1.2,
    threads: 2,
    speedup: 1.9,
    speedupLabel: '1.9x',
    ceiling: false,
    atLeastPiscina: true,
    summary: `${CHILDREN} CPU-bound children of ~1.2 ms on 2 threads vs one after the other on the main thread, and vs piscina; unpinned; time/op is one whole set`,
    options: { rounds: 15, sampleMs: 60, warmupMs: 500 },
  });
}

function cpuChildrenOf(shape: Shape): Comparison {
  const SERIAL = `serial: ${CHILDREN} x spin(~${shape.childMs} ms) on the main thread`;
  const BRANCH = `safethread: branch of ${CHILDREN} children on ${shape.threads} threads`;
  const PISCINA = `piscina: ${CHILDREN} tasks on ${shape.threads} threads`;
  const CEILING = `ceiling: ${CHILDREN} spins shared by ${shape.threads} bare workers`;
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

  const cases: BenchCase[] = [
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
        if (pool === undefined) throw new Error(`${shape.name}: measured before setUp`);
        for (let i = 0; i < iterations; i++) add(await Promise.all(Array.from({ length: CHILDREN }, () => pool.run(steps))));
      },
    },
  ];
  if (shape.ceiling) {
    cases.push({
      name: CEILING,
      run: async (iterations) => {
        const workers = ceiling;
        if (workers === undefined) throw new Error(`${shape.name}: measured before setUp`);
        for (let i = 0; i < iterations; i++) add(await workers.run(steps, CHILDREN));
      },
    });
  }
  const targets: Target[] = [
    { case: BRANCH, atMost: 1 / shape.speedup, label: `speedup >= ${shape.speedupLabel} (time <= ${(1 / shape.speedup).toFixed(3)}x serial)` },
  ];
  if (shape.atLeastPiscina) targets.push({ case: BRANCH, versus: PISCINA, atMost: 1, label: "speedup at least piscina's (time <= piscina's)" });

  return {
    name: shape.name,
    summary: shape.summary,
    anchor: SERIAL,
    cases,
    targets,
    options: shape.options,
    setUp: async () => {
      // Warm the loop up before calibrating it, then size one child.
      stepsForMs(shape.childMs);
      steps = stepsForMs(shape.childMs);
      configure({ threads: shape.threads });
      piscina = await startPiscina<number, number>('spin', shape.threads, 1000);
      if (shape.ceiling) ceiling = await SpinWorkers.start(shape.threads);
      // Starts every pool thread (and loads the task module there) before anything is measured.
      await runBranch();
      await runBranch();
    },
    tearDown: async () => {
      await stop();
      if (sink === 0) throw new Error(`${shape.name}: the children computed nothing`);
    },
  };
}
