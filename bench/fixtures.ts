/**
 * safethread's side of the cross-thread benches: a monitor to spawn as an actor, and the tasks
 * that branch children run. Worker threads load this module to find them, so it only defines
 * and registers (no side effects).
 */
import { currentToken, Monitor, monitorMethod, sleep, task } from '../lib';
import { spin } from './workers/spin';

/** The same counter as Comlink's: one call does as little as a call can. */
@Monitor
export class BenchCounter {
  #count = 0;

  @monitorMethod
  async increment(): Promise<number> {
    return ++this.#count;
  }
}

/** The CPU-bound child: the very function the main thread and piscina run (bench/workers/spin.js). */
export const spinTask = task(function spinTask(iterations: number): number {
  return spin(iterations);
});

/** The large-value child: reads the value it was sent. */
export const lengthOf = task(function lengthOf(value: readonly number[]): number {
  return value.length;
});

/**
 * The cancel-latency children. Each is handed an Int32Array over a SharedArrayBuffer and sets its
 * word 0 to 1 (with a notify) once it is running, so the main thread cancels a child that is
 * known to be in its loop or its sleep, never one still on its way to its thread.
 */
function signalRunning(running: Int32Array): void {
  Atomics.store(running, 0, 1);
  Atomics.notify(running, 0);
}

/** The cooperative CPU-bound child: spins reading its token, and stops the moment it is cancelled. */
export const spinUntilCancelled = task(function spinUntilCancelled(running: Int32Array): number {
  const token = currentToken();
  let turns = 0;
  signalRunning(running);
  while (!token.cancelled) turns++;
  token.throwIfCancelled();
  return turns;
});

/** The cooperative waiting child: a long sleep, which its token ends early. */
export const sleepUntilCancelled = task(async function sleepUntilCancelled(running: Int32Array): Promise<void> {
  // The sleep listens to the token before the main thread learns that the child runs.
  const asleep = sleep(60_000);
  signalRunning(running);
  await asleep;
});

/**
 * The child that ignores cancellation: a busy loop that never reads its token, so only ending its
 * thread stops it. It gives up by itself after `limitMs`, so a broken termination shows up as a
 * huge latency rather than a thread spinning for ever.
 */
export const ignoreCancellation = task(function ignoreCancellation(running: Int32Array, limitMs: number): number {
  const end = Date.now() + limitMs;
  let turns = 0;
  signalRunning(running);
  while (Date.now() < end) turns++;
  return turns;
});

/** The smallest child: occupies a pool thread (starting it if needed) and returns. */
export const touchThread = task(function touchThread(): number {
  return 1;
});
