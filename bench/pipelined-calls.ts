import { availableParallelism } from 'node:os';
import type Piscina from 'piscina';
import { shutdown, spawn } from '../lib';
import { PINNING_NOTE, pinToOneCpu } from './affinity';
import { ComlinkAnchor, EchoWorker, startPiscina } from './anchors';
import type { Comparison } from './comparison';
import { BenchCounter } from './fixtures';

/**
 * Pipelined calls: many in flight at once, so the figure is throughput, not wake-up latency.
 *
 * Every case issues its calls in batches of {@link BATCH} started together and awaited with
 * `Promise.all` (the raw MessagePort posts a batch of messages and waits for every echo), and
 * reports the time per call. safethread sends everything posted in one tick as one message
 * (lib/threads/batched-port.ts), so DESIGN.md wants at least 5x Comlink's throughput, which
 * sends a message per call, and more than piscina's on a trivial task (piscina runs on
 * every core here, safethread's actor on one thread).
 */

const BATCH = 1000;
const THREADS = availableParallelism();

const RAW = `raw MessagePort, ${BATCH} messages in flight`;
const SAFETHREAD = `safethread actor.increment(), ${BATCH} in flight`;
const COMLINK = `Comlink proxy.increment(), ${BATCH} in flight`;
const PISCINA = `piscina run(n) on ${THREADS} threads, ${BATCH} in flight`;

/** Runs `iterations` operations in batches of at most {@link BATCH}, each batch awaited whole. */
async function inBatches(iterations: number, batch: (size: number) => Promise<unknown>): Promise<void> {
  for (let done = 0; done < iterations; done += BATCH) await batch(Math.min(BATCH, iterations - done));
}

export function pipelinedCalls(): Comparison {
  let echo: EchoWorker | undefined;
  let comlink: ComlinkAnchor | undefined;
  let piscina: Piscina<number, number> | undefined;
  let counter: BenchCounter | undefined;
  let unpin: () => void = () => {};
  let sink = 0;

  /** Ends every thread this comparison started (also after a failed setUp) and unpins the process. */
  const stop = async (): Promise<void> => {
    try {
      await Promise.allSettled([echo?.close(), comlink?.close(), piscina?.destroy(), shutdown()]);
    } finally {
      unpin();
    }
  };
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('pipelined-calls: measured before setUp');
    return value;
  };
  const count = (results: readonly number[]): void => {
    sink += results[results.length - 1] ?? 0;
  };

  return {
    name: 'pipelined-calls',
    summary: `throughput with ${BATCH} calls in flight (started at once, awaited with Promise.all); time/op is per call; ${PINNING_NOTE}`,
    anchor: RAW,
    cases: [
      {
        name: RAW,
        run: (iterations) => inBatches(iterations, (size) => started(echo).roundTrips(size)),
      },
      {
        name: SAFETHREAD,
        run: (iterations) => {
          const actor = started(counter);
          return inBatches(iterations, async (size) => count(await Promise.all(Array.from({ length: size }, () => actor.increment()))));
        },
      },
      {
        name: COMLINK,
        run: (iterations) => {
          const proxy = started(comlink).counter;
          return inBatches(iterations, async (size) => count(await Promise.all(Array.from({ length: size }, () => proxy.increment()))));
        },
      },
      {
        name: PISCINA,
        run: (iterations) => {
          const pool = started(piscina);
          return inBatches(iterations, async (size) => count(await Promise.all(Array.from({ length: size }, (_, n) => pool.run(n)))));
        },
      },
    ],
    targets: [
      { case: SAFETHREAD, versus: COMLINK, atMost: 0.2, label: "at least 5x Comlink's throughput" },
      { case: SAFETHREAD, versus: PISCINA, atMost: 1, label: "above piscina's trivial-task throughput" },
    ],
    options: { sampleMs: 40, rounds: 15 },
    setUp: async () => {
      unpin = pinToOneCpu();
      [echo, comlink, piscina, counter] = await Promise.all([EchoWorker.start(), ComlinkAnchor.start(), startPiscina<number, number>('increment', THREADS, 0), spawn(BenchCounter)]);
      const actor = counter;
      await Promise.all(Array.from({ length: BATCH }, () => actor.increment()));
    },
    tearDown: async () => {
      await stop();
      if (!(sink > 0)) throw new Error('pipelined-calls: the counters never counted');
    },
  };
}
