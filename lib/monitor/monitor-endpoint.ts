import type { MonitorPlan } from './monitor-plan';

/**
 * What a monitor reference calls: the monitor itself when it lives on this thread, or a proxy
 * for it on another thread. A reference does not know which, so a call means the same either way.
 */
export interface MonitorEndpoint {
  /** `Class#id`, for messages. */
  readonly label: string;
  readonly plan: MonitorPlan;
  /** Runs `method` with `args` in a turn of the monitor; settles with its result or error. */
  call(method: string, args: unknown[]): Promise<unknown>;
}
