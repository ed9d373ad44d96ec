import { codedError } from './coded-error';

/**
 * A background child failed and nothing handled its result. safethread raises it as an unhandled
 * rejection (so, under Node's default, the process ends with exit code 1), naming the child; the
 * child's own error is its `cause`. A child whose `result` was read is not reported this way:
 * its reader owns the failure, as with any promise.
 *
 * @example
 * ```ts
 * process.on('unhandledRejection', (error) => {
 *   if (error instanceof BackgroundError) log.error(error.child, error.cause);
 * });
 * ```
 */
export class BackgroundError extends codedError(Error, 'BackgroundError') {
  /** The stable code of this failure. */
  declare readonly code: 'ERR_BACKGROUND_FAILED';
  /** The name of the background child's function. */
  readonly child: string;

  constructor(child: string, error: unknown) {
    super('ERR_BACKGROUND_FAILED', [child, error instanceof Error ? error.message : String(error)], { cause: error });
    this.child = child;
  }
}
