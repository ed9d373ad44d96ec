/**
 * The classic bank-transfer deadlock, caught instead of hung.
 *
 * Two accounts live on two actor threads and pay each other at the same moment. Each transfer
 * holds its own account (a monitor turn lasts until the method settles) while it deposits into
 * the other, so each would wait for the other forever. The framework sees the cycle the moment it
 * closes and rejects one deposit with a DeadlockError that names it; that transfer refunds and
 * fails, the other completes, and no money is lost. Then the fix: withdraw in one call, deposit
 * in another, never holding one account while calling the other, and both transfers complete.
 *
 * Run alone: npx ts-node samples/bank-transfer.ts
 */
import { close, DeadlockError, Monitor, monitorMethod, sleep, spawn } from '../lib';

@Monitor
export class Account {
  readonly #name: string;
  #balance: number;

  constructor(name: string, balance: number) {
    this.#name = name;
    this.#balance = balance;
  }

  /** The naive transfer: it holds this account until the money has arrived in `to`. */
  @monitorMethod async transfer(to: Account, amount: number): Promise<void> {
    this.#take(amount);
    await sleep(20); // e.g. a fraud check: long enough for the other transfer to start too
    try {
      await to.deposit(amount);
    } catch (error) {
      // The money left this account but never arrived: put it back before failing.
      this.#balance += amount;
      throw error;
    }
  }

  @monitorMethod async withdraw(amount: number): Promise<void> {
    this.#take(amount);
  }

  @monitorMethod async deposit(amount: number): Promise<void> {
    this.#balance += amount;
  }

  @monitorMethod async balance(): Promise<number> {
    return this.#balance;
  }

  #take(amount: number): void {
    if (amount > this.#balance) throw new RangeError(`${this.#name} has ${this.#balance}, cannot pay ${amount}`);
    this.#balance -= amount;
  }
}

/**
 * The fix: each step holds one account only, so no wait can close a cycle. Between the two
 * calls the money is in flight, counted in neither account, which is fine for a bank ledger.
 */
async function safeTransfer(from: Account, to: Account, amount: number): Promise<void> {
  await from.withdraw(amount);
  try {
    await to.deposit(amount);
  } catch (error) {
    await from.deposit(amount);
    throw error;
  }
}

export async function main(): Promise<void> {
  const alice = await spawn(Account, 'alice', 100);
  const bob = await spawn(Account, 'bob', 50);
  try {
    const balances = async (): Promise<string> => {
      const [a, b] = await Promise.all([alice.balance(), bob.balance()]);
      return `alice ${a} + bob ${b} = ${a + b}${a + b === 150 ? ', nothing lost' : ', money lost!'}`;
    };
    console.log('bank transfer: alice (100) and bob (50), on two actor threads, pay each other at once');

    console.log("  holding the payer's account while paying the other:");
    const [aliceToBob, bobToAlice] = await Promise.allSettled([alice.transfer(bob, 30), bob.transfer(alice, 20)]);
    console.log(`    alice -> bob 30: ${describe(aliceToBob)}`);
    console.log(`    bob -> alice 20: ${describe(bobToAlice)}`);
    for (const outcome of [aliceToBob, bobToAlice]) {
      if (outcome.status === 'rejected' && outcome.reason instanceof DeadlockError) console.log(`    ${outcome.reason.message}`);
    }
    console.log(`    ${await balances()}`);

    await Promise.all([safeTransfer(alice, bob, 30), safeTransfer(bob, alice, 20)]);
    console.log(`  one account at a time: both done, ${await balances()}`);
  } finally {
    await Promise.all([close(alice), close(bob)]);
  }
}

function describe(outcome: PromiseSettledResult<void>): string {
  if (outcome.status === 'fulfilled') return 'done';
  if (outcome.reason instanceof DeadlockError) return 'rejected with DeadlockError, money refunded';
  throw outcome.reason;
}

if (require.main === module) void main();
