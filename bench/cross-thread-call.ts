import type Piscina from 'piscina';
import { shutdown, spawn } from '../lib';
import { PINNING_NOTE, pinToOneCpu } from './affinity';
import { AtomicsPingPong, ComlinkAnchor, EchoWorker, startPiscina } from './anchors';
import type { Comparison } from './comparison';
import { BenchCounter } from './fixtures';

/**
 * A cross-thread monitor call with one call in flight at a time, against the limits and the
 * libraries that do the same job.
 *
 * `await counter.increment()` on an actor (a `@Monitor` spawned on a thread of its own) is a
 * message there and a message back, like a raw MessagePort round trip, which DESIGN.md wants it
 * within 1.5x of; Comlink's proxy does the same through its own protocol, and safethread should be
 * at least 2x faster. A piscina task and an Atomics wait/notify ping-pong (no message at all,
 * the wake-up alone) are shown for context. Every case waits for its reply before the next call,
 * so each one pays a full thread wake-up: the figure that flips between two speeds on this
 * machine, depending on whether the two threads share a CPU. So the process is pinned to one
 * CPU for this comparison (see bench/affinity.ts), and the cases are interleaved.
 */

const RAW = 'raw MessagePort round trip';
const SAFETHREAD = 'safethread await actor.increment()';
const COMLINK = 'Comlink await proxy.increment()';
const PISCINA = 'piscina await pool.run(n)';
const ATOMICS = 'Atomics wait/notify ping-pong';

export function crossThreadCall(): Comparison {
  let echo: EchoWorker | undefined;
  let pingPong: AtomicsPingPong | undefined;
  let comlink: ComlinkAnchor | undefined;
  let piscina: Piscina<number, number> | undefined;
  let counter: BenchCounter | undefined;
  let unpin: () => void = () => {};
  // Keeps the results observable so no loop can be optimised away.
  let sink = 0;

  /** Ends every thread this comparison started (also after a failed setUp) and unpins the process. */
  const stop = async (): Promise<void> => {
    try {
      await Promise.allSettled([echo?.close(), pingPong?.close(), comlink?.close(), piscina?.destroy(), shutdown()]);
    } finally {
      unpin();
    }
  };
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('cross-thread-call: measured before setUp');
    return value;
  };

  return {
    name: 'cross-thread-call',
    summary: `one call in flight: await of a call answered by another thread, each call waiting for the previous reply (${PINNING_NOTE})`,
    anchor: RAW,
    cases: [
      {
        name: RAW,
        run: async (iterations) => {
          const worker = started(echo);
          for (let i = 0; i < iterations; i++) await worker.roundTrips(1);
        },
      },
      {
        name: SAFETHREAD,
        run: async (iterations) => {
          const actor = started(counter);
          for (let i = 0; i < iterations; i++) sink += await actor.increment();
        },
      },
      {
        name: COMLINK,
        run: async (iterations) => {
          const proxy = started(comlink).counter;
          for (let i = 0; i < iterations; i++) sink += await proxy.increment();
        },
      },
      {
        name: PISCINA,
        run: async (iterations) => {
          const pool = started(piscina);
          for (let i = 0; i < iterations; i++) sink += await pool.run(i);
        },
      },
      {
        name: ATOMICS,
        run: (iterations) => {
          const worker = started(pingPong);
          for (let i = 0; i < iterations; i++) worker.roundTrip();
        },
      },
    ],
    targets: [
      { case: SAFETHREAD, atMost: 1.5, label: 'within 1.5x of a raw MessagePort round trip' },
      { case: SAFETHREAD, versus: COMLINK, atMost: 0.5, label: 'at least 2x faster than Comlink' },
    ],
    setUp: async () => {
      unpin = pinToOneCpu();
      [echo, pingPong, comlink, piscina, counter] = await Promise.all([
        EchoWorker.start(),
        AtomicsPingPong.start(),
        ComlinkAnchor.start(),
        startPiscina<number, number>('increment', 1, 0),
        spawn(BenchCounter),
      ]);
      for (let i = 0; i < 100; i++) await counter.increment();
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('cross-thread-call: the counters never counted');
    },
  };
}
