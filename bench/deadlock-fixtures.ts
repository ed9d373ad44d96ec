/**
 * The deadlock-detection bench's monitor. Actor threads load this module to find it, so it only
 * defines and registers (no side effects).
 */
import { DeadlockError, Monitor, monitorMethod } from '../lib';

/**
 * A monitor that holds itself while it passes a call on along a route of monitors; a route that
 * comes back to a monitor already held up the chain (`a.pass([b, a])`: A.pass calls B.pass,
 * which calls A.touch) makes the last call close a cycle.
 */
@Monitor
export class CycleHop {
  /**
   * Calls `route[0].pass(rest)`, holding this monitor; the hop before the last makes the last
   * call, `touch()`, which must close a cycle, and times it itself: resolves to the milliseconds
   * from that call until it rejected with a `DeadlockError`. Timed where the call is made, so
   * across threads the figure has none of the calls that built the chain, nor the way back.
   */
  @monitorMethod
  async pass(route: readonly CycleHop[]): Promise<number> {
    const [next, ...rest] = route;
    if (next === undefined) throw new Error('deadlock-detection: a route needs at least one monitor');
    if (rest.length > 0) return next.pass(Object.freeze(rest));
    const start = process.hrtime.bigint();
    try {
      await next.touch();
    } catch (error) {
      const end = process.hrtime.bigint();
      if (error instanceof DeadlockError) return Number(end - start) / 1e6;
      throw error;
    }
    throw new Error('deadlock-detection: the call that closes the cycle completed instead of rejecting');
  }

  @monitorMethod
  async touch(): Promise<void> {}
}
