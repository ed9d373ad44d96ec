import { execFileSync } from 'node:child_process';

/**
 * Pinning the whole process (every thread, and every thread started later) to one CPU, for the
 * comparisons whose cases each wait for a single reply from another thread.
 *
 * On this 2-vCPU machine the cost of waking a thread depends on where the scheduler put the two
 * threads: on the same CPU it is a context switch (a round trip of about 17 µs), on the other,
 * halted CPU it takes an inter-processor interrupt (50-80 µs). Which of the two a pair of threads
 * gets sticks for seconds and differs between pairs, so each case (each with its own worker)
 * would draw its own speed and interleaving the cases would not cancel it. Pinned to one CPU,
 * every case pays the same wake-up and the ratios compare the protocols. Set
 * `SAFETHREAD_BENCH_PIN=0` to measure unpinned.
 *
 * Linux only (through `taskset`); elsewhere, or when `taskset` is missing, nothing is pinned.
 */

const ENABLED = process.env.SAFETHREAD_BENCH_PIN !== '0';

/** The CPUs the process may run on now, as `taskset -c` lists them, or undefined when it cannot be pinned. */
function currentCpus(): string | undefined {
  if (!ENABLED || process.platform !== 'linux') return undefined;
  try {
    const output = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // "pid 123's current affinity list: 0-1"
    const list = output.slice(output.lastIndexOf(':') + 1).trim();
    return list === '' ? undefined : list;
  } catch {
    return undefined;
  }
}

/** Whether {@link pinToOneCpu} will pin, for the comparisons' summaries. */
export const CAN_PIN = currentCpus() !== undefined;

/** How a summary says whether the process was pinned. */
export const PINNING_NOTE = CAN_PIN ? 'process pinned to one CPU so every case pays the same thread wake-up' : 'process not pinned';

/** Pins every thread of the process to one CPU; returns what undoes it. Does nothing when it cannot. */
export function pinToOneCpu(): () => void {
  const original = currentCpus();
  if (original === undefined) return () => {};
  const first = original.split(/[,-]/)[0];
  const apply = (list: string): void => {
    execFileSync('taskset', ['-a', '-pc', list, String(process.pid)], { stdio: 'ignore' });
  };
  apply(first);
  return () => apply(original);
}
