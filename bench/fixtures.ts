/**
 * safethread's side of the cross-thread benches: a monitor to spawn as an actor, and the tasks
 * that branch children run. Worker threads load this module to find them, so it only defines
 * and registers (no side effects).
 */
import { Monitor, monitorMethod, task } from '../lib';
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
