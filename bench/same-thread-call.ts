import { freeze, Monitor, monitorMethod, type Immutable } from '../lib';
import type { Comparison } from './comparison';

/**
 * Same-thread monitor call vs a plain `await` of the same async method.
 *
 * A monitor whose owner is the calling thread still queues the call as a turn and checks the
 * arguments and the result for shareability; DESIGN.md allows that at most 2x the cost of
 * `await obj.method()` on an ordinary object. Both counters run identical method bodies, so the
 * difference is the monitor machinery alone: the reference's Proxy, the turn queue, the checks
 * and the extra promise between the method and the caller.
 *
 * A monitor call cannot settle in the same microtask as the method: the turn must end (and the
 * result be checked) before the caller resumes, so its promise follows the method's by one
 * `.then()`. The `plain .then()` case shows that floor: the same plain call with one `.then()`
 * added, under the same AsyncLocalStorage cost (which deadlock detection brings in, and which
 * makes every promise of the process dearer). Together with the reference's Proxy trap, it is
 * most of the 2x the target allows, so what the monitor adds beyond it is kept to a few field
 * writes on an idle monitor (no queue entry, no extra promise, no wait to withdraw).
 *
 * The `add(order)` cases pass a large frozen argument that `freeze()` has already verified: the
 * check must be a cache hit, O(1), so the call costs about the same as one without arguments,
 * whatever the argument's size.
 */

interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

interface Order {
  readonly id: number;
  readonly lines: readonly OrderLine[];
}

/** Lines in the frozen argument: large enough that walking it would dwarf the call. */
const ORDER_LINES = 10_000;

// Both counters are exported for bench/deadlock-detection.ts, which times the same calls in child processes.
export class PlainCounter {
  #count = 0;

  async increment(): Promise<number> {
    return ++this.#count;
  }

  async add(order: Immutable<Order>): Promise<number> {
    this.#count += order.lines.length;
    return this.#count;
  }
}

@Monitor
export class MonitorCounter {
  #count = 0;

  @monitorMethod
  async increment(): Promise<number> {
    return ++this.#count;
  }

  @monitorMethod
  async add(order: Immutable<Order>): Promise<number> {
    this.#count += order.lines.length;
    return this.#count;
  }
}

const PLAIN = 'plain await obj.increment()';
const PLAIN_THEN = 'plain await obj.increment().then(v => v)';
const MONITOR = 'monitor counter.increment()';
const PLAIN_ADD = 'plain await obj.add(frozen)';
const MONITOR_ADD = 'monitor counter.add(frozen)';

const same = (value: number): number => value;

export function sameThreadCall(): Comparison {
  const plain = new PlainCounter();
  const counter = new MonitorCounter();
  const order = freeze<Order>({
    id: 1,
    lines: Array.from({ length: ORDER_LINES }, (_, index) => ({ sku: `A${index}`, quantity: index })),
  });
  // Keeps the results observable so no loop can be optimised away.
  let sink = 0;

  return {
    name: 'same-thread-call',
    summary: `await of an async method: @Monitor reference on its own thread vs an ordinary object; add() passes a verified frozen ${ORDER_LINES.toLocaleString('en')}-line order; the .then() case is the floor a call that settles after its turn can reach`,
    anchor: PLAIN,
    cases: [
      {
        name: PLAIN,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) sink += await plain.increment();
        },
      },
      {
        name: PLAIN_THEN,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) sink += await plain.increment().then(same);
        },
      },
      {
        name: MONITOR,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) sink += await counter.increment();
        },
      },
      {
        name: PLAIN_ADD,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) sink += await plain.add(order);
        },
      },
      {
        name: MONITOR_ADD,
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) sink += await counter.add(order);
        },
      },
    ],
    targets: [
      { case: MONITOR, atMost: 2, label: 'within 2x of plain await (issue 13)' },
      { case: MONITOR_ADD, versus: PLAIN_ADD, atMost: 2, label: 'within 2x of plain add(frozen)' },
      { case: MONITOR_ADD, versus: MONITOR, atMost: 1.5, label: `O(1) check: within 1.5x of ${MONITOR}` },
    ],
    tearDown: () => {
      if (!(sink > 0)) throw new Error('same-thread-call: the counters never counted');
    },
  };
}
