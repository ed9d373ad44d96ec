/**
 * The Counter of the safethread interview (Listing 1), in TypeScript.
 *
 * Ten callers tick one counter a thousand times each, with an await in the middle of every
 * update. A plain object loses most of the updates (read, await, write: the callers overwrite
 * each other). The monitor loses none, because a turn holds it until the method has settled.
 *
 * Run alone: npx ts-node samples/counter.ts
 */
import { Monitor, monitorMethod } from '../lib';

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
}

async function tickMany(tick: () => Promise<void>): Promise<void> {
  for (let i = 0; i < TICKS; i++) await tick();
}

function pause(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

if (require.main === module) void main();
