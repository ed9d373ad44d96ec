import type { MessageDetails } from './codes';
import { codedError } from './coded-error';

/** The codes a {@link MonitorAccessError} carries. */
export type MonitorAccessErrorCode = 'ERR_MONITOR_ACCESS_READ' | 'ERR_MONITOR_ACCESS_WRITE';

/**
 * A property of a monitor reference other than a `@monitorMethod` was read or written. A
 * monitor's state lives on its owner thread and is reached only through its methods.
 *
 * @example
 * ```ts
 * const counter = new Counter();
 * try {
 *   console.log((counter as unknown as { count: number }).count);
 * } catch (error) {
 *   if (error instanceof MonitorAccessError) console.error(error.message);
 * }
 * ```
 */
export class MonitorAccessError<C extends MonitorAccessErrorCode = MonitorAccessErrorCode> extends codedError(TypeError, 'MonitorAccessError') {
  /** The stable code of this failure. */
  declare readonly code: C;

  constructor(code: C, ...details: MessageDetails<C>) {
    super(code, details);
  }
}
