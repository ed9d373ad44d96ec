import { codedError } from './coded-error';

/**
 * A call reached a monitor that no longer exists: it was closed, or the thread it lived on
 * crashed or was shut down. Pending and later calls to it reject with this error; none hang.
 *
 * @example
 * ```ts
 * await close(worker);
 * await worker.run().catch((error) => {
 *   if (error instanceof MonitorClosedError) console.error(error.message);
 * });
 * ```
 */
export class MonitorClosedError extends codedError(Error, 'MonitorClosedError') {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_MONITOR_CLOSED';

  /**
   * @param monitor - the monitor, as `Class#id`
   * @param why - what closed it, e.g. `'its thread crashed'`
   */
  constructor(monitor: string, why: string, options?: ErrorOptions) {
    super('ERR_MONITOR_CLOSED', [monitor, why], options);
  }
}
