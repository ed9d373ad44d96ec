import { branch, configure } from '../../lib';

/**
 * Sizes the pool and starts every thread now, so that the children a test times or cancels start
 * at once, not after a thread start-up (which loads TypeScript under jest and takes a second).
 */
export async function warmPool(threads: number): Promise<void> {
  configure({ threads });
  await branch((children) => {
    for (let i = 0; i < threads; i++) children.add((n: number) => n, i);
  });
}
