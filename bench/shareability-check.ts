import { isShareable } from '../lib';
import type { Comparison } from './comparison';

/**
 * `isShareable` of a large frozen value: the first check, which walks it, vs the check of a value
 * already verified, which DESIGN.md wants O(1) (a frozen value cannot change, so the proof is
 * cached).
 *
 * The value is a frozen array of 10,000 small frozen objects. The first-check case needs a value
 * never seen before on every iteration, so `prepare` builds a pool of fresh ones outside the
 * timed part; they are frozen with `Object.freeze`, not `freeze()`, which would verify them. A
 * cached check of a one-element array shows that the cached cost does not depend on size.
 */

interface Item {
  readonly id: number;
  readonly name: string;
  readonly price: number;
}

const SIZE = 10_000;

/** A fresh, deeply frozen array that no check has seen. */
function buildCatalog(size: number): readonly Item[] {
  const items: Item[] = [];
  for (let id = 0; id < size; id++) items.push(Object.freeze({ id, name: 'item', price: id / 4 }));
  return Object.freeze(items);
}

const FIRST = `first check, fresh ${SIZE.toLocaleString('en')}-element array`;
const CACHED = `cached check, same ${SIZE.toLocaleString('en')}-element array`;
const CACHED_SMALL = 'cached check, 1-element array';

export function shareabilityCheck(): Comparison {
  let fresh: (readonly Item[])[] = [];
  const large = buildCatalog(SIZE);
  const small = buildCatalog(1);

  const checkRepeatedly = (value: readonly Item[], iterations: number): void => {
    for (let i = 0; i < iterations; i++) {
      if (!isShareable(value)) throw new Error('shareability-check: a frozen catalog was refused');
    }
  };

  return {
    name: 'shareability-check',
    summary: `isShareable of a frozen array of ${SIZE.toLocaleString('en')} small frozen objects: first check (walk) vs already verified (cache hit)`,
    anchor: FIRST,
    cases: [
      {
        name: FIRST,
        prepare: (iterations) => {
          fresh = Array.from({ length: iterations }, () => buildCatalog(SIZE));
        },
        run: (iterations) => {
          for (let i = 0; i < iterations; i++) {
            if (!isShareable(fresh[i])) throw new Error('shareability-check: a frozen catalog was refused');
          }
          fresh = [];
        },
      },
      { name: CACHED, run: (iterations) => checkRepeatedly(large, iterations) },
      { name: CACHED_SMALL, run: (iterations) => checkRepeatedly(small, iterations) },
    ],
    targets: [
      { case: CACHED, atMost: 0.01, label: 'O(1): at least 100x faster than the first check' },
      { case: CACHED, versus: CACHED_SMALL, atMost: 2, label: 'O(1): within 2x of a cached 1-element check' },
    ],
    setUp: () => {
      // Verify both once, so their cases time the cache hit only.
      checkRepeatedly(large, 1);
      checkRepeatedly(small, 1);
    },
  };
}
