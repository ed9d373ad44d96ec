import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { branch, configure, freeze, Monitor, monitorMethod, shutdown, task } from '../lib';
import type { Comparison } from './comparison';

/**
 * A soak: {@link SOAK_MONITORS} monitors made in branch children, returned to the main thread and
 * dropped there. Each reference that is collected releases its monitor on the child's thread, so
 * a thread that exported monitors takes children again or retires when idle: the process's RSS
 * and thread count after the soak must be back near where they were before it. (Before monitors
 * were released, each monitor returned from a child pinned a thread for the life of the process.)
 *
 * The timed case is the same work, a branch making monitors; the figures that matter are the
 * checks, printed before and after the soak.
 */

const SOAK_MONITORS = 10_000;
/** Monitors each child makes; two children per branch, one per pool thread. */
const PER_CHILD = 50;
const THREADS = 2;
const MAKE = 'make a monitor in a child and drop it';

@Monitor
export class SoakCounter {
  #count = 0;

  @monitorMethod
  async increment(): Promise<number> {
    return ++this.#count;
  }
}

export const makeCounters = task(function makeCounters(count: number) {
  return freeze(Array.from({ length: count }, () => new SoakCounter()));
});

/** The OS threads of this process (V8's and libuv's included; each worker adds several). */
function osThreads(): number {
  const match = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match === null ? Number.NaN : Number(match[1]);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function monitorRelease(): Comparison {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const figures = { threadsBefore: 0, threadsAfter: 0, rssBeforeMb: 0, rssAfterMb: 0 };

  /** Makes `count` monitors in children and drops them: each branch's references are garbage at once. */
  const makeAndDrop = async (count: number): Promise<void> => {
    for (let made = 0; made < count; made += PER_CHILD * THREADS) {
      const left = Math.min(PER_CHILD * THREADS, count - made);
      await branch((children) => {
        children.add(makeCounters, Math.ceil(left / 2));
        children.add(makeCounters, Math.floor(left / 2));
      });
      // Let references be collected and their releases travel, so threads are free for the next branch.
      gc();
      await pause(0);
    }
  };

  /** Collects until the releases arrived and idle threads retired. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      gc();
      await pause(100);
    }
  };

  return {
    name: 'monitor-release',
    summary: `${SOAK_MONITORS} monitors made in children and dropped: threads and memory come back`,
    anchor: MAKE,
    options: { rounds: 3, sampleMs: 50, warmupMs: 50 },
    cases: [{ name: MAKE, run: (iterations) => makeAndDrop(iterations) }],
    checks: [
      {
        case: MAKE,
        label: 'OS threads added by the soak (each worker adds ~10)',
        figure: () => figures.threadsAfter - figures.threadsBefore,
        atMost: 25,
        format: (added) => `${figures.threadsBefore} -> ${figures.threadsAfter} threads (${added >= 0 ? '+' : ''}${added})`,
      },
      {
        case: MAKE,
        label: 'RSS added by the soak, MB',
        figure: () => figures.rssAfterMb - figures.rssBeforeMb,
        atMost: 150,
        format: (added) => `${figures.rssBeforeMb} -> ${figures.rssAfterMb} MB (${added >= 0 ? '+' : ''}${added})`,
      },
    ],
    async setUp() {
      configure({ threads: THREADS, idleTimeoutMs: 200 });
      // A first branch starts the pool: the baseline is a process with its threads running.
      await makeAndDrop(PER_CHILD * THREADS);
      await settle();
      figures.threadsBefore = osThreads();
      figures.rssBeforeMb = Math.round(process.memoryUsage().rss / 2 ** 20);
      await makeAndDrop(SOAK_MONITORS);
      await settle();
      figures.threadsAfter = osThreads();
      figures.rssAfterMb = Math.round(process.memoryUsage().rss / 2 ** 20);
      console.log(`monitor-release soak: ${SOAK_MONITORS} monitors made in children and dropped; threads ${figures.threadsBefore} -> ${figures.threadsAfter}, RSS ${figures.rssBeforeMb} -> ${figures.rssAfterMb} MB`);
    },
    tearDown: () => shutdown(),
  };
}
