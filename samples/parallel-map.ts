/**
 * A parallel CPU map with a progress bar: count the primes below four million in sixteen slices,
 * once on this thread and once as branch children on worker threads, and print the speedup.
 * The bar is driven by `children.results()`, which emits each child as it finishes.
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

const LIMIT = 4_000_000;
const SLICES = 16;

export async function main(): Promise<void> {
  const threads = availableParallelism();
  configure({ threads });
  const slices = Array.from({ length: SLICES }, (_, i) => [(i * LIMIT) / SLICES, ((i + 1) * LIMIT) / SLICES] as const);
  // Start the threads first, so the timing below measures the work, not thread start-up.
  await branch((children) => {
    for (let i = 0; i < threads; i++) children.add(countPrimes, 0, 10);
  });

  console.log(`parallel map: primes below ${LIMIT.toLocaleString('en')} in ${SLICES} slices`);
  let started = performance.now();
  const serial = slices.reduce((sum, [from, to]) => sum + countPrimes(from, to), 0);
  const serialMs = performance.now() - started;
  console.log(`  this thread : ${serial} primes in ${serialMs.toFixed(0)} ms`);

  const bar = new ProgressBar(`  ${threads} threads   :`, SLICES);
  started = performance.now();
  const counts = await branch<number>((children) => {
    for (const [from, to] of slices) children.add(countPrimes, from, to);
    // Each child as it finishes, in the order they finish: { index, name, value }.
    children.results().subscribe(({ index, value }) => bar.advance(`slice ${index} has ${value} primes`));
  });
  const parallelMs = performance.now() - started;
  const parallel = counts.reduce((sum, count) => sum + count, 0);
  bar.finish(`${parallel} primes in ${parallelMs.toFixed(0)} ms (${(serialMs / parallelMs).toFixed(2)}x faster)`);
  await shutdown();
}

/**
 * A one-line progress bar. On a terminal it redraws itself in place; in a log (a pipe or a file)
 * it only appends a block per step, so the log stays one clean line.
 */
class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #live = process.stdout.isTTY === true;
  #done = 0;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
    process.stdout.write(this.#live ? this.#render('') : `${label} [`);
  }

  advance(note: string): void {
    this.#done++;
    process.stdout.write(this.#live ? `\r${this.#render(note)}` : '█');
  }

  finish(summary: string): void {
    process.stdout.write(this.#live ? `\r${this.#render('')} ${summary}\n` : `] ${this.#done}/${this.#total} ${summary}\n`);
  }

  #render(note: string): string {
    const width = this.#total;
    const filled = Math.round((this.#done / this.#total) * width);
    const counter = `${this.#done}/${this.#total}`.padStart(2 * String(this.#total).length + 1);
    return `${this.#label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${counter}${note ? ` ${note}` : ''}\x1b[K`;
  }
}

if (require.main === module) void main();
