/**
 * The Counter of the safethread interview (Listing 1), in TypeScript.
 *
 * Ten callers tick one counter a thousand times each, with an await in the middle of every
 * update. A plain object loses most of the updates (read, await, write: the callers overwrite
 * each other). The monitor loses none, because a turn holds it until the method has settled.
 * Then ten children on worker threads tick the same counter: the calls cross threads, run on
 * the counter's own thread one at a time, and still none is lost.
 *
 * Run alone: npx ts-node samples/counter.ts
 */
import { threadId } from 'node:worker_threads';
import { branch, Monitor, monitorMethod, shutdown, task } from '../lib';

@Monitor
export class Counter {
  #count = 0;

  @monitorMethod async tick(): Promise<void> {
    const seen = this.#count;
    await pause(); // e.g. a write to a log between the read and the write
    this.#count = seen + 1;
  }

  @monitorMethod async value(): Promise<number> {
    return this.#count;
  }
}

/** The same counter without a monitor, to show what goes wrong. */
class UnsafeCounter {
  count = 0;

  async tick(): Promise<void> {
    const seen = this.count;
    await pause();
    this.count = seen + 1;
  }
}

/** A child: ticks the counter it was given from a worker thread, and says which thread it ran on. */
export const tickFromThread = task(async function tickFromThread(counter: Counter, ticks: number): Promise<number> {
  for (let i = 0; i < ticks; i++) await counter.tick();
  return threadId;
});

const CALLERS = 10;
const TICKS = 1000;

export async function main(): Promise<void> {
  const unsafe = new UnsafeCounter();
  await Promise.all(Array.from({ length: CALLERS }, () => tickMany(() => unsafe.tick())));

  const counter = new Counter();
  await Promise.all(Array.from({ length: CALLERS }, () => tickMany(() => counter.tick())));

  const expected = CALLERS * TICKS;
  console.log(`counter: ${CALLERS} callers x ${TICKS} ticks, with an await inside every update`);
  console.log(`  plain object : ${unsafe.count} of ${expected} (${expected - unsafe.count} lost updates)`);
  console.log(`  @Monitor     : ${await counter.value()} of ${expected}`);

  const shared = new Counter();
  const threads = await branch<number>((children) => {
    for (let i = 0; i < CALLERS; i++) children.add(tickFromThread, shared, 100);
  });
  console.log(`  ${CALLERS} children on threads ${[...new Set(threads)].sort().join(', ')} x 100 ticks: ${await shared.value()} of ${CALLERS * 100}`);
  await shutdown();
}

async function tickMany(tick: () => Promise<void>): Promise<void> {
  for (let i = 0; i < TICKS; i++) await tick();
}

function pause(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

if (require.main === module) void main();
