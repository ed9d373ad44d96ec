/**
 * A SharedDict: a dictionary every thread reads and writes in shared memory.
 *
 * The main thread fills a price list. Four children on worker threads price 50 000 to 200 000
 * order lines each, reading the prices with plain synchronous `get()` calls: no message, no await, and a read
 * of an unchanged key is answered from the thread's cache after one check of shared memory. Each
 * child writes its total into the same dictionary, and the main thread reads them all back.
 * Then a dictionary made too small refuses a write, naming the limit to raise.
 *
 * Run alone: npx ts-node samples/shared-dict.ts
 */
import { branch, freeze, SharedDict, SharedDictError, shutdown, task } from '../lib';

type Price = { readonly cents: number; readonly currency: string };

const SKUS = ['apple', 'bread', 'cheese', 'dates', 'eggs'];

/** A child: prices `lines` order lines from the shared price list, and records its total there. */
export const priceOrders = task(function priceOrders(prices: SharedDict<string, Price | number>, worker: number, lines: number): number {
  const skus = ['apple', 'bread', 'cheese', 'dates', 'eggs'];
  let cents = 0;
  for (let line = 0; line < lines; line++) cents += (prices.get(skus[(line + worker) % skus.length]) as Price).cents;
  prices.set(`total:${worker}`, cents);
  return cents;
});

export async function main(): Promise<void> {
  const prices = new SharedDict<string, Price | number>({ maxEntries: 100 });
  SKUS.forEach((sku, index) => prices.set(sku, freeze({ cents: 100 + 25 * index, currency: 'EUR' })));

  const started = performance.now();
  const totals = await branch<number>((children) => {
    for (let worker = 0; worker < 4; worker++) children.add(priceOrders, prices, worker, 50_000 * (worker + 1));
  });
  const ms = performance.now() - started;
  console.log(`shared dict: 4 children read 500000 prices from shared memory in ${ms.toFixed(0)} ms (thread start-up included)`);
  console.log(`  totals the children returned : ${totals.join(', ')}`);
  const written = [...prices.entries()].filter(([key]) => key.startsWith('total:')).sort(([a], [b]) => a.localeCompare(b));
  console.log(`  totals they wrote in the dict: ${written.map(([, cents]) => cents).join(', ')} (${prices.size} entries now)`);
  console.log(`  a value read back is frozen  : ${Object.isFrozen(prices.get('apple'))}`);

  const tiny = new SharedDict<string, number>({ maxEntries: 2 });
  try {
    tiny.set('a', 1).set('b', 2).set('c', 3);
  } catch (error) {
    if (!(error instanceof SharedDictError)) throw error;
    console.log(`  full: ${error.message}`);
  }
  await shutdown();
}

if (require.main === module) void main();
