/**
 * A parallel CPU map: count the primes below two million in eight slices, once on this thread
 * and once as branch children on worker threads, and print the speedup.
 *
 * Run alone: npx ts-node samples/parallel-map.ts
 */
import { availableParallelism } from 'node:os';
import { branch, configure, shutdown, task } from '../lib';

/** Counts the primes in [from, to): pure CPU work, registered so that a worker can run it. */
export const countPrimes = task(function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
});

const LIMIT = 2_000_000;
const SLICES = 8;

export async function main(): Promise<void> {
  const threads = availableParallelism();
  configure({ threads });
  const slices = Array.from({ length: SLICES }, (_, i) => [(i * LIMIT) / SLICES, ((i + 1) * LIMIT) / SLICES] as const);
  // Start the threads first, so the timing below measures the work, not thread start-up.
  await branch((children) => {
    for (let i = 0; i < threads; i++) children.add(countPrimes, 0, 10);
  });

  let started = performance.now();
  const serial = slices.reduce((sum, [from, to]) => sum + countPrimes(from, to), 0);
  const serialMs = performance.now() - started;

  started = performance.now();
  const counts = await branch<number>((children) => {
    for (const [from, to] of slices) children.add(countPrimes, from, to);
  });
  const parallelMs = performance.now() - started;
  const parallel = counts.reduce((sum, count) => sum + count, 0);

  console.log(`parallel map: primes below ${LIMIT.toLocaleString('en')} in ${SLICES} slices`);
  console.log(`  this thread : ${serial} primes in ${serialMs.toFixed(0)} ms`);
  console.log(`  ${threads} threads   : ${parallel} primes in ${parallelMs.toFixed(0)} ms (${(serialMs / parallelMs).toFixed(2)}x faster)`);
  await shutdown();
}

if (require.main === module) void main();
