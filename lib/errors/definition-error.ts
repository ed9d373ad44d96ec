import type { MessageDetails } from './codes';
import { codedError } from './coded-error';

/** The codes a {@link DefinitionError} carries. */
export type DefinitionErrorCode =
  | 'ERR_DECORATOR_MISUSE'
  | 'ERR_INVALID_OPTION'
  | 'ERR_MONITOR_METHOD_OUTSIDE_MONITOR'
  | 'ERR_MONITOR_WITHOUT_METHODS'
  | 'ERR_MONITOR_METHOD_NOT_ASYNC'
  | 'ERR_STREAM_METHOD_NOT_OBSERVABLE'
  | 'ERR_STREAM_METHOD_AWAITED'
  | 'ERR_SUBCLASS_NOT_MONITOR'
  | 'ERR_FREE_VARIABLE'
  | 'ERR_NOT_PORTABLE_FUNCTION'
  | 'ERR_TASK_NOT_FOUND'
  | 'ERR_MODULE_NOT_LOADABLE'
  | 'ERR_RXJS_MISSING'
  | 'ERR_NOT_A_MONITOR'
  | 'ERR_BRANCH_CLOSED'
  | 'ERR_BACKGROUND_OFF_MAIN_THREAD';

/**
 * A decorator, an option or a monitor method is used in a way safethread cannot honour:
 * `@monitorMethod` on a getter, a monitor method that is not async, an unknown option value.
 * Thrown when the class is defined wherever possible, otherwise at the first use.
 *
 * @example
 * ```ts
 * try {
 *   @Monitor({ reentrant: 'always' as 'chain' }) class Bad {}
 * } catch (error) {
 *   if (error instanceof DefinitionError) console.error(error.code); // 'ERR_INVALID_OPTION'
 * }
 * ```
 */
export class DefinitionError<C extends DefinitionErrorCode = DefinitionErrorCode> extends codedError(TypeError, 'DefinitionError') {
  /** The stable code of this failure. */
  declare readonly code: C;

  constructor(code: C, ...details: MessageDetails<C>) {
    super(code, details);
  }
}
