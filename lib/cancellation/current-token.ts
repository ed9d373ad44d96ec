import { runtime } from '../runtime';
import { CancellationToken } from './cancellation-token';

/**
 * The cancellation token of what is running now: the branch body, the child, the task or the
 * monitor call, carried through awaits and across threads with each call. Outside all of them
 * it is `CancellationToken.none`.
 *
 * @example
 * ```ts
 * @monitorMethod async index(files: readonly string[]): Promise<number> {
 *   const token = currentToken();
 *   for (const file of files) {
 *     token.throwIfCancelled(); // the caller gave up: stop between files
 *     await this.add(file);
 *   }
 *   return files.length;
 * }
 * ```
 */
export function currentToken(): CancellationToken {
  return runtime.ambient.getStore()?.token ?? CancellationToken.none;
}
