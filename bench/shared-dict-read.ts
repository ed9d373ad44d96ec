import { availableParallelism } from 'node:os';
import { branch, close, configure, Monitor, monitorMethod, SharedDict, shutdown, spawn, task } from '../lib';
import type { Comparison } from './comparison';

/**
 * Reads of a dictionary shared by threads: `SharedDict.get` from two pool threads at once (each a
 * branch child reading half the keys' worth), against the two ways to share a dictionary without
 * it: a plain `Map` read on one thread (the upper limit, nothing shared), and a `@Monitor` holding
 * the Map, read by `await store.get(key)` from two threads (the actor's one thread answers them
 * all). `SharedDict.get` on the main thread alone is shown for context.
 *
 * One operation is one read of a number, cycling over {@link KEYS} keys; every read is summed and
 * the sums checked, so no read can be dropped. The dictionary is not written while it is read:
 * this is the repeated read of an unchanged key, which a thread answers from its cache after one
 * atomic check of shared memory. Worker threads load this module to find its task and monitor, so
 * it only defines and registers (no side effects).
 */

/** How many keys the reads cycle over. */
const KEYS = 1000;
/** Reading threads of the cross-thread cases. */
const READERS = 2;

const MAP = 'Map.get on one thread';
const DICT_ONE = 'SharedDict.get on one thread';
const DICT_TWO = `SharedDict.get from ${READERS} threads`;
const MONITOR_TWO = `monitor get() call from ${READERS} threads`;

function keyNames(): readonly string[] {
  return Array.from({ length: KEYS }, (_, index) => `key:${index}`);
}

/** The sum of `count` reads cycling over keys whose values are their indexes, from `from`: in closed form, so checking costs no loop. */
function expectedSum(from: number, count: number): number {
  const below = (reads: number): number => Math.floor(reads / KEYS) * ((KEYS * (KEYS - 1)) / 2) + ((reads % KEYS) * ((reads % KEYS) - 1)) / 2;
  return below(from + count) - below(from);
}

/** Reads `count` keys from the dictionary, starting at key `from`; returns the sum of the values. */
export const readDict = task(function readDict(dict: SharedDict<string, number>, from: number, count: number): number {
  const keys = keyNames();
  let sum = 0;
  for (let read = from; read < from + count; read++) sum += dict.get(keys[read % KEYS]) as number;
  return sum;
});

/** The dictionary as a monitor: one thread owns the Map, every read is a call. */
@Monitor
export class MapStore {
  readonly #map = new Map<string, number>();

  @monitorMethod
  async fill(count: number): Promise<void> {
    for (let index = 0; index < count; index++) this.#map.set(`key:${index}`, index);
  }

  @monitorMethod
  async get(key: string): Promise<number | undefined> {
    return this.#map.get(key);
  }
}

/** Reads `count` keys through the monitor, one call at a time, as a loop of `await` does. */
export const readStore = task(async function readStore(store: MapStore, from: number, count: number): Promise<number> {
  const keys = keyNames();
  let sum = 0;
  for (let read = from; read < from + count; read++) sum += (await store.get(keys[read % KEYS])) as number;
  return sum;
});

export function sharedDictRead(): Comparison {
  const keys = keyNames();
  const map = new Map<string, number>();
  const dict = new SharedDict<string, number>({ maxEntries: KEYS });
  keys.forEach((key, index) => {
    map.set(key, index);
    dict.set(key, index);
  });
  let store: MapStore | undefined;
  let sink = 0;
  let expected = 0;
  const add = (sum: number, from: number, count: number): void => {
    sink += sum;
    expected += expectedSum(from, count);
  };

  /** Splits `iterations` reads between the reading threads, each starting at its own key. */
  const inParallel = async (iterations: number, read: (from: number, count: number) => Promise<number>): Promise<void> => {
    const share = Math.ceil(iterations / READERS);
    const parts = Array.from({ length: READERS }, (_, index) => ({ from: index * share, count: Math.max(0, Math.min(share, iterations - index * share)) }));
    const sums = await Promise.all(parts.map(({ from, count }) => read(from, count)));
    parts.forEach(({ from, count }, index) => add(sums[index], from, count));
  };
  const stop = async (): Promise<void> => {
    if (store !== undefined) await close(store);
    await shutdown();
    configure({ threads: availableParallelism() });
  };

  return {
    name: 'shared-dict-read',
    summary:
      `reads/s of a number by key (cycling over ${KEYS} keys): SharedDict.get from ${READERS} pool threads at once vs a Map on one thread ` +
      `and vs a @Monitor holding the Map read by awaited get() calls from ${READERS} threads; time/op is per read, a run's branch start-up included`,
    anchor: MAP,
    cases: [
      {
        name: MAP,
        run: (iterations) => {
          let sum = 0;
          for (let read = 0; read < iterations; read++) sum += map.get(keys[read % KEYS]) as number;
          add(sum, 0, iterations);
        },
      },
      {
        name: DICT_ONE,
        run: (iterations) => {
          let sum = 0;
          for (let read = 0; read < iterations; read++) sum += dict.get(keys[read % KEYS]) as number;
          add(sum, 0, iterations);
        },
      },
      {
        name: DICT_TWO,
        run: (iterations) =>
          inParallel(iterations, async (from, count) => {
            const [sum] = await branch<number>((children) => void children.add(readDict, dict, from, count));
            return sum;
          }),
      },
      {
        name: MONITOR_TWO,
        run: (iterations) =>
          inParallel(iterations, async (from, count) => {
            const [sum] = await branch<number>((children) => void children.add(readStore, store as MapStore, from, count));
            return sum;
          }),
      },
    ],
    targets: [
      { case: DICT_TWO, versus: MONITOR_TWO, atMost: 0.01, label: 'at least 100x the reads/s of monitor get() calls' },
      { case: DICT_ONE, atMost: 5, label: 'a cached read within 5x of Map.get' },
    ],
    options: { sampleMs: 100, rounds: 10, warmupMs: 500 },
    setUp: async () => {
      // A pool thread for each reader; the monitor is an actor, on a thread of its own.
      configure({ threads: READERS });
      store = await spawn(MapStore);
      await store.fill(KEYS);
      // Starts every pool thread (and loads this module there) before anything is measured.
      await branch((children) => {
        for (let index = 0; index < READERS; index++) children.add(readDict, dict, 0, KEYS);
      });
    },
    tearDown: async () => {
      await stop();
      if (sink !== expected) throw new Error(`shared-dict-read: the reads summed to ${sink}, not ${expected}`);
    },
  };
}
