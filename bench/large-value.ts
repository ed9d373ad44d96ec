import { availableParallelism } from 'node:os';
import { serialize } from 'node:v8';
import type Piscina from 'piscina';
import { branch, configure, freeze, shutdown, type Immutable } from '../lib';
import { verifiedValues } from '../lib/shareability/verified-values';
import { startPiscina } from './anchors';
import type { Comparison } from './comparison';
import { lengthOf } from './fixtures';

/**
 * A large frozen value sent to {@link CHILDREN} children: DESIGN.md wants it serialized once, not
 * once per child (lib/threads/serialize.ts keeps the bytes of a large verified value and shares
 * them with every later send).
 *
 * The value is a frozen array of {@link LENGTH} doubles, about 1 MiB serialized (the summary
 * states the exact size). The cases are a
 * branch sending the same, already sent value to every child (the bytes are cached), a branch
 * sending a value never sent before (it is serialized in the timed part; `freeze` verified it
 * untimed, in `prepare`), and piscina sending the same value to as many tasks (structured clone
 * per task). Each child only reads the value's length, so the figures are the cost of moving it.
 * One operation is the whole branch (or the whole set of piscina tasks).
 *
 * The "serialized once" target is checked directly: after every sample of the cached case the
 * bench looks up the value's bytes in `verifiedValues().serialized`, and counts how many different
 * byte buffers it saw over the whole run: one means one serialization for every send.
 */

const CHILDREN = 8;
const THREADS = availableParallelism();
/**
 * About 1 MiB serialized: a frozen array is written element by element with its index (about 13
 * bytes a double), not as the dense run of 9-byte doubles of an ordinary array.
 */
const LENGTH = 81_000;

function buildValue(): Immutable<number[]> {
  return freeze(Array.from({ length: LENGTH }, (_, index) => index + 0.5));
}

const CACHED = `safethread branch: same value to ${CHILDREN} children`;
const FIRST = `safethread branch: fresh value to ${CHILDREN} children`;
const PISCINA = `piscina: same value to ${CHILDREN} tasks`;

export function largeValue(): Comparison {
  const value = buildValue();
  const bytes = serialize(value).length;
  let fresh: Immutable<number[]>[] = [];
  let piscina: Piscina<Immutable<number[]>, number> | undefined;
  /** Every byte buffer `verifiedValues().serialized` held for `value` after a send (undefined: none). */
  const cacheEntries = new Set<object | undefined>();
  let sink = 0;

  /** Ends every thread this comparison started, also after a failed setUp. */
  const stop = async (): Promise<void> => {
    await Promise.allSettled([piscina?.destroy(), shutdown()]);
  };
  const sendTo = async (sent: Immutable<number[]>): Promise<void> => {
    const lengths = await branch<number>((children) => {
      for (let i = 0; i < CHILDREN; i++) children.add(lengthOf, sent);
    });
    for (const length of lengths) sink += length;
  };
  const sendCached = async (iterations: number): Promise<void> => {
    for (let i = 0; i < iterations; i++) await sendTo(value);
    cacheEntries.add(verifiedValues().serialized(value));
  };

  return {
    name: 'large-value',
    summary: `a frozen array of ${LENGTH.toLocaleString('en')} doubles (${(bytes / 2 ** 20).toFixed(2)} MiB by v8.serialize) sent to ${CHILDREN} children on ${THREADS} threads; time/op is one whole send`,
    anchor: CACHED,
    cases: [
      { name: CACHED, run: sendCached },
      {
        name: FIRST,
        prepare: (iterations) => {
          fresh = Array.from({ length: iterations }, buildValue);
        },
        run: async (iterations) => {
          for (let i = 0; i < iterations; i++) await sendTo(fresh[i]);
          fresh = [];
        },
      },
      {
        name: PISCINA,
        run: async (iterations) => {
          const pool = piscina;
          if (pool === undefined) throw new Error('large-value: measured before setUp');
          for (let i = 0; i < iterations; i++) {
            for (const length of await Promise.all(Array.from({ length: CHILDREN }, () => pool.run(value)))) sink += length;
          }
        },
      },
    ],
    checks: [
      {
        case: CACHED,
        label: 'serialized once (one cached byte buffer for every send)',
        figure: () => (cacheEntries.has(undefined) ? 0 : cacheEntries.size),
        atLeast: 1,
        atMost: 1,
        format: (count) => `${count} serialization${count === 1 ? '' : 's'}`,
      },
    ],
    options: { sampleMs: 60, rounds: 15 },
    setUp: async () => {
      configure({ threads: THREADS });
      piscina = await startPiscina<Immutable<number[]>, number>('lengthOf', THREADS, value);
      // Starts every pool thread and sends the value a first time: from here on its bytes are cached.
      await sendCached(1);
      await sendCached(1);
    },
    tearDown: async () => {
      await stop();
      if (sink === 0) throw new Error('large-value: no child saw the value');
    },
  };
}
