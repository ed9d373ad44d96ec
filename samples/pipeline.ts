/**
 * A producer/consumer pipeline over channels: the longest Collatz chain below a million.
 *
 * A producer child cuts 1..999,999 into blocks and puts each block's start into a small channel.
 * Two worker children take blocks, find the longest chain in each (n -> n / 2 or 3n + 1 until 1)
 * and put the block's champion into a second channel. A consumer on this thread takes those with
 * `for await` and keeps the best. The channels hold four values each, so the producer cannot run
 * ahead: it waits for room (backpressure) and the workers set the pace. Each side closes the
 * channel it fills when it is done, which ends the loops downstream; the counts show nothing lost.
 *
 * Run alone: npx ts-node samples/pipeline.ts
 */
import { threadId } from 'node:worker_threads';
import { branch, Channel, configure, freeze, shutdown, task, type Child } from '../lib';

/** The best chain of one block, as a worker reports it. */
export interface Champion {
  readonly start: number;
  readonly numbers: number;
  readonly best: number;
  readonly steps: number;
  readonly worker: string;
}

/** Puts the start of every block into `blocks`, then closes it; reports how long its puts took. */
export const produce = task(async function produce(blocks: Channel<number>, limit: number, size: number) {
  const started = performance.now();
  let putMs = 0;
  let count = 0;
  for (let start = 1; start < limit; start += size) {
    const asked = performance.now();
    await blocks.put(start); // waits while the channel is full
    putMs += performance.now() - asked;
    count++;
  }
  await blocks.close(); // no more blocks: the workers' loops end once they have taken the rest
  return freeze({ count, putMs, totalMs: performance.now() - started });
});

/** Takes blocks until `blocks` is closed and drained, and puts each block's champion into `champions`. */
export const crunch = task(async function crunch(worker: string, blocks: Channel<number>, champions: Channel<Champion>, limit: number, size: number) {
  let count = 0;
  for await (const start of blocks) {
    const end = Math.min(start + size, limit);
    let best = start;
    let most = -1;
    for (let n = start; n < end; n++) {
      const steps = collatzSteps(n);
      if (steps > most) [best, most] = [n, steps];
    }
    await champions.put(freeze({ start, numbers: end - start, best, steps: most, worker }));
    count++;
  }
  return freeze({ worker, thread: threadId, count });
});

/** How many steps n takes to reach 1. (Chains pass 2^32, so no `n & 1`; and `n % 2` is slow on such numbers.) */
function collatzSteps(n: number): number {
  let steps = 0;
  for (; n !== 1; steps++) {
    const half = n / 2;
    n = half === Math.floor(half) ? half : 3 * n + 1;
  }
  return steps;
}

const LIMIT = 1_000_000;
const BLOCK = 1_000;
const CAPACITY = 4;

export async function main(): Promise<void> {
  // Three children, one thread each. The producer mostly waits for room, so three fit on two cores.
  configure({ threads: 3 });
  const blocks = new Channel<number>(CAPACITY);
  const champions = new Channel<Champion>(CAPACITY);
  let producer!: Child<{ readonly count: number; readonly putMs: number; readonly totalMs: number }>;
  let workers!: Child<{ readonly worker: string; readonly thread: number; readonly count: number }>[];
  let consumer!: Child<{ readonly count: number; readonly numbers: number; readonly best: Champion | undefined }>;

  console.log(`pipeline: producer -> Channel(${CAPACITY}) -> 2 workers -> Channel(${CAPACITY}) -> consumer on this thread`);
  await branch(async (children) => {
    producer = children.add(produce, blocks, LIMIT, BLOCK);
    workers = ['w1', 'w2'].map((name) => children.add(crunch, name, blocks, champions, LIMIT, BLOCK));
    consumer = children.addLocal(async () => {
      let count = 0;
      let numbers = 0;
      let best: Champion | undefined;
      for await (const champion of champions) {
        // ends once the channel is closed and drained
        count++;
        numbers += champion.numbers;
        if (best === undefined || champion.steps > best.steps) best = champion;
      }
      return freeze({ count, numbers, best });
    });
    // Both workers done: nothing more can come, so close the second channel to end the consumer.
    await Promise.allSettled(workers.map((worker) => worker.result));
    await champions.close();
  });

  const made = await producer.result;
  const crunched = await Promise.all(workers.map((worker) => worker.result));
  const { count, numbers, best } = await consumer.result;
  const sum = crunched.reduce((total, worker) => total + worker.count, 0);
  console.log(`  producer : put ${made.count.toLocaleString('en')} blocks of ${BLOCK.toLocaleString('en')} in ${made.totalMs.toFixed(0)} ms, ${made.putMs.toFixed(0)} ms of it blocked in put(): the workers set the pace`);
  console.log(`  workers  : ${crunched.map((worker) => `${worker.worker} on thread ${worker.thread} took ${worker.count}`).join(', ')} (${sum} in all)`);
  console.log(`  consumer : got ${count.toLocaleString('en')} champions covering ${numbers.toLocaleString('en')} numbers: ${count === made.count && sum === made.count && numbers === LIMIT - 1 ? 'nothing lost' : 'something was lost!'}`);
  if (best !== undefined) console.log(`  the longest Collatz chain below ${LIMIT.toLocaleString('en')} starts at ${best.best.toLocaleString('en')} (${best.steps} steps, found by ${best.worker})`);
  await shutdown();
}

if (require.main === module) void main();
