/**
 * The README's first example, runnable: a monitor that holds its state across awaits, and the
 * shareability check refusing a mutable array.
 *
 * Run alone: npx ts-node samples/inventory.ts
 */
import { freeze, Monitor, monitorMethod, ShareabilityError, sleep } from '../lib';

@Monitor
export class Inventory {
  #stock = new Map<string, number>(); // private state: lives with the monitor

  @monitorMethod async add(sku: string, quantity: number): Promise<number> {
    const now = (this.#stock.get(sku) ?? 0) + quantity;
    await sleep(5); // e.g. an audit write: the monitor stays held across awaits, no other call slips in
    this.#stock.set(sku, now);
    return now;
  }

  @monitorMethod async addAll(lines: readonly { sku: string; quantity: number }[]): Promise<void> {
    for (const line of lines) await this.add(line.sku, line.quantity); // runs directly, same turn
  }

  @monitorMethod async count(sku: string): Promise<number> {
    return this.#stock.get(sku) ?? 0;
  }
}

export async function main(): Promise<void> {
  const inventory = new Inventory(); // a monitor reference, not the instance
  await Promise.all([inventory.add('A1', 2), inventory.add('A1', 3)]);
  console.log(`A1: ${await inventory.count('A1')} (always 5: neither add lost the other's update)`);
  await inventory.addAll(freeze([{ sku: 'B2', quantity: 1 }])); // frozen: may cross threads
  try {
    await inventory.addAll([{ sku: 'B2', quantity: 1 }]);
  } catch (error) {
    if (!(error instanceof ShareabilityError)) throw error;
    console.log(`refused: ${error.message}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
