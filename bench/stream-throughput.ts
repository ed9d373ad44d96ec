import type { Observable } from 'rxjs';
import { shutdown, spawn } from '../lib';
import { PINNING_NOTE, pinToOneCpu } from './affinity';
import { NumberStreamWorker } from './anchors';
import type { Comparison } from './comparison';
import { NumberSource } from './stream-fixtures';

/**
 * Observable items across threads: a stream method of an actor (a `@Monitor` spawned on a thread
 * of its own, bench/stream-fixtures.ts) returns `range(0, n)`, and the main thread subscribes
 * until it completes; against a bare worker posting the same numbers to the main thread with one
 * `postMessage` per item, the anchor. The same worker posting all of them in one array is shown
 * for context: the most a port can carry in one go.
 *
 * The actor's thread encodes each value as a message of the stream, and, like every message of
 * safethread, sends everything posted in one tick as one batch (lib/threads/batched-port.ts); the
 * main thread's router passes the events to the subscriber one by one. Every case moves its items
 * in subscriptions (requests) of at most {@link ITEMS}, one after the other, and checks their sum;
 * one operation is one item. The process is pinned to one CPU, as for cross-thread-call.
 */

/** Items per subscription (per request to the raw worker). */
const ITEMS = 10_000;

const RAW = `raw MessagePort, a postMessage per item, ${ITEMS.toLocaleString('en')} per request`;
const RAW_ARRAY = `raw MessagePort, ${ITEMS.toLocaleString('en')} items in one array message`;
const SAFETHREAD = `safethread actor.numbers(n) Observable, ${ITEMS.toLocaleString('en')} per subscription`;

/** Runs `iterations` items in requests of at most {@link ITEMS}, each awaited whole. */
async function inRequests(iterations: number, request: (size: number) => Promise<void>): Promise<void> {
  for (let done = 0; done < iterations; done += ITEMS) await request(Math.min(ITEMS, iterations - done));
}

/** Subscribes to `numbers` and resolves to the sum of its items when it completes. */
function sumOf(numbers: Observable<number>): Promise<number> {
  return new Promise((resolve, reject) => {
    let sum = 0;
    numbers.subscribe({
      next: (value) => {
        sum += value;
      },
      error: reject,
      complete: () => resolve(sum),
    });
  });
}

export function streamThroughput(): Comparison {
  let worker: NumberStreamWorker | undefined;
  let source: NumberSource | undefined;
  let unpin: () => void = () => {};
  let sink = 0;

  /** Ends every thread this comparison started (also after a failed setUp) and unpins the process. */
  const stop = async (): Promise<void> => {
    try {
      await Promise.allSettled([worker?.close(), shutdown()]);
    } finally {
      unpin();
    }
  };
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('stream-throughput: measured before setUp');
    return value;
  };
  const count = (size: number, sum: number): void => {
    const expected = (size * (size - 1)) / 2;
    if (sum !== expected) throw new Error(`stream-throughput: ${size} items summed to ${sum}, not ${expected}`);
    sink += sum;
  };

  return {
    name: 'stream-throughput',
    summary: `items/s of an Observable returned by an actor's stream method, subscribed from the main thread until complete, vs a bare worker posting as many numbers; time/op is per item; ${PINNING_NOTE}`,
    anchor: RAW,
    cases: [
      {
        name: RAW,
        run: (iterations) => inRequests(iterations, async (size) => count(size, await started(worker).stream(size, false))),
      },
      {
        name: SAFETHREAD,
        run: (iterations) => {
          const actor = started(source);
          return inRequests(iterations, async (size) => count(size, await sumOf(actor.numbers(size))));
        },
      },
      {
        name: RAW_ARRAY,
        run: (iterations) => inRequests(iterations, async (size) => count(size, await started(worker).stream(size, true))),
      },
    ],
    options: { sampleMs: 40, rounds: 15 },
    setUp: async () => {
      unpin = pinToOneCpu();
      [worker, source] = await Promise.all([NumberStreamWorker.start(), spawn(NumberSource)]);
      const actor = source;
      await actor.ready();
      for (let i = 0; i < 5; i++) count(ITEMS, await sumOf(actor.numbers(ITEMS)));
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('stream-throughput: no item arrived');
    },
  };
}
