/**
 * The children benches' tasks (bench/children-*.ts, bench/scaling.ts). Worker threads load this
 * module to find them, so it only defines and registers (no side effects).
 */
import { task } from '../lib';
import { spin } from './workers/spin';

/** The trivial child: as little work as piscina's `increment` task (bench/workers/piscina-tasks.js). */
export const incrementTask = task(function incrementTask(n: number): number {
  return n + 1;
});

/**
 * How many spin steps take about `ms` milliseconds of this CPU's time: the fastest of several
 * trials, since on a shared machine a trial the thread spent partly descheduled reads too slow.
 */
export function stepsForMs(ms: number): number {
  let steps = 10_000;
  while (timeMs(steps) < 20) steps *= 2;
  let fastest = Number.POSITIVE_INFINITY;
  for (let trial = 0; trial < 7; trial++) fastest = Math.min(fastest, timeMs(steps));
  return Math.max(1, Math.round((steps * ms) / fastest));
}

function timeMs(steps: number): number {
  const start = process.hrtime.bigint();
  spin(steps);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
