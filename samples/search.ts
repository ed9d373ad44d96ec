/**
 * A cancellable parallel search: find a nonce whose SHA-256 (with a prefix) starts with five
 * zeros. Each child searches its own stride of the numbers and reads its cancellation token in
 * its loop; the first child to find one cancels the others, which stop within a loop turn.
 *
 * Run alone: npx ts-node samples/search.ts
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { branch, configure, currentToken, shutdown, task, type Child } from '../lib';

const PREFIX = 'safethread:';
const TARGET = '00000';

/** Searches n = start, start + stride, ...; returns the nonce found, or how far it got when cancelled. */
export const searchStride = task(function searchStride(start: number, stride: number): { readonly nonce?: number; readonly tried: number } {
  const token = currentToken();
  let tried = 0;
  for (let n = start; ; n += stride) {
    if ((tried & 1023) === 0 && token.cancelled) return Object.freeze({ tried });
    tried++;
    if (createHash('sha256').update(PREFIX + n).digest('hex').startsWith(TARGET)) return Object.freeze({ nonce: n, tried });
  }
});

export async function main(): Promise<void> {
  const threads = availableParallelism();
  configure({ threads });
  const started = performance.now();
  const results = await branch<{ readonly nonce?: number; readonly tried: number }>((children) => {
    const searchers: Child<{ readonly nonce?: number; readonly tried: number }>[] = [];
    for (let i = 0; i < threads; i++) searchers.push(children.add(searchStride, i, threads));
    for (const searcher of searchers) {
      void searcher.result.then((found) => {
        if (found.nonce === undefined) return;
        for (const other of searchers) if (other !== searcher) other.cancel('another child found a nonce');
      });
    }
  });
  const winner = results.find((result) => result.nonce !== undefined);
  const tried = results.reduce((sum, result) => sum + result.tried, 0);
  console.log(`search: sha256("${PREFIX}<nonce>") starting with ${TARGET}, ${threads} children`);
  console.log(`  found nonce ${winner?.nonce} after ${tried.toLocaleString('en')} hashes in ${(performance.now() - started).toFixed(0)} ms`);
  console.log(`  the other ${threads - 1} stopped when cancelled: ${results.filter((result) => result.nonce === undefined).map((result) => result.tried.toLocaleString('en')).join(', ')} hashes each`);
  await shutdown();
}

if (require.main === module) void main();
