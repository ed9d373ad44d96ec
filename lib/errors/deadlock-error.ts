import { codedError } from './coded-error';

/**
 * One step of a wait-for cycle: a turn that holds its monitor and waits for the next monitor.
 *
 * @example
 * ```ts
 * const text = error.cycle.map((step) => `${step.monitor}.${step.method} on ${step.thread} -> ${step.waitsFor}`);
 * ```
 */
export interface DeadlockStep {
  /** The monitor the turn holds, as `Class#id`. */
  readonly monitor: string;
  /** The method of the turn. */
  readonly method: string;
  /** The thread the monitor lives on, e.g. `'main'` or `'thread 3'`. */
  readonly thread: string;
  /** The monitor the turn waits for (a call to it is queued or running), as `Class#id`. */
  readonly waitsFor: string;
}

/**
 * A wait would have closed a cycle of monitor calls each waiting for the next, which could
 * never end. Of the calls queued in the cycle, the one that queued last rejects with this error;
 * the others proceed. The message lists the cycle step by step and `cycle` carries it as data.
 *
 * @example
 * ```ts
 * await ping.start().catch((error) => {
 *   if (error instanceof DeadlockError) console.error(error.cycle.map((step) => step.monitor));
 * });
 * ```
 */
export class DeadlockError extends codedError(Error, 'DeadlockError') {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_DEADLOCK';
  /**
   * The cycle, one step per turn: it starts with the turn holding the monitor the rejected
   * call waited for, and ends with the turn that made the rejected call.
   */
  readonly cycle: readonly DeadlockStep[];

  constructor(cycle: readonly DeadlockStep[], description: string, rejectedCall: string) {
    super('ERR_DEADLOCK', [description, rejectedCall]);
    // Copied with Array.from, not map: steps that arrived from another thread may belong to another
    // realm (jest's sandbox), whose arrays `map` would reproduce, and such data would not travel on.
    this.cycle = Object.freeze(Array.from(cycle, (step) => Object.freeze({ monitor: step.monitor, method: step.method, thread: step.thread, waitsFor: step.waitsFor })));
  }
}

/** `Ping#1.start (main) waits for Pong#2, held by Pong#2.back (thread 3), which waits for Ping#1`. */
export function describeCycle(cycle: readonly DeadlockStep[]): string {
  const [first, ...rest] = cycle as [DeadlockStep, ...DeadlockStep[]];
  const parts = [`${first.monitor}.${first.method} (${first.thread}) waits for ${first.waitsFor}`];
  if (rest.length === 0) return `${parts[0]}, which it holds itself`;
  for (const step of rest) parts.push(`held by ${step.monitor}.${step.method} (${step.thread}), which waits for ${step.waitsFor}`);
  return parts.join(', ');
}
