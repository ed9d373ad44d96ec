import { branch, CancelledError, Channel, configure, shutdown } from '../../lib';
import { exportTable } from '../../lib/monitor/export-table';
import type { LocalMonitor } from '../../lib/monitor/local-monitor';
import { endpointOf } from '../../lib/monitor/reference';
import { router } from '../../lib/threads/transport';
import { holdUntilReleased, ignoreCancellation, increment, markRan, nestedSum, putThenClose, putThenCloseHolding, RAN, RELEASED, STARTED, sumAll } from '../fixtures/pool-tasks';
import { Tally } from '../fixtures/monitors';
import { decoratorMode } from '../helpers/decorator-mode';
import { warmPool } from '../helpers/warm-pool';

/**
 * Children sent ahead: a thread gets its next child before it finishes the one it runs, and that
 * changes nothing a branch can see (cancellation, grace, where a child may run).
 */

jest.setTimeout(120_000);
afterEach(() => shutdown());

/** Shared words a test and its children signal each other through (see spec/fixtures/pool-tasks.ts). */
function newFlags(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
}

/** Waits (without blocking this thread) until `flags[index]` is set, at most `ms`. */
async function waitForFlag(flags: Int32Array, index: number, ms = 10_000): Promise<void> {
  const waited = Atomics.waitAsync(flags, index, 0, ms);
  if (waited.async) await waited.value;
  if (Atomics.load(flags, index) === 0) throw new Error(`flag ${index} was not set within ${ms} ms`);
}

function release(flags: Int32Array): void {
  Atomics.store(flags, RELEASED, 1);
  Atomics.notify(flags, RELEASED);
}

describe('children sent ahead', () => {
  it('start on their thread the moment the child before them ends, with no word from the main thread', async () => {
    await warmPool(1);
    const flags = newFlags();
    const done = branch((children) => {
      children.add(holdUntilReleased, flags, 10_000);
      children.add(markRan, flags);
    });
    await waitForFlag(flags, STARTED);
    release(flags);
    // This thread is blocked from here on: it cannot dispatch anything, so the second child can
    // only start if its thread already had it.
    Atomics.wait(flags, RAN, 0, 10_000);
    expect(Atomics.load(flags, RAN)).toBe(1);
    await expect(done).resolves.toEqual(['released', 1]);
  });

  it('never run when cancelled before they start, and reject at once with a CancelledError', async () => {
    await warmPool(1);
    const flags = newFlags();
    let second: Promise<unknown> | undefined;
    const done = branch((children) => {
      children.add(holdUntilReleased, flags, 10_000);
      const waiting = children.add(markRan, flags);
      second = waiting.result;
      waiting.cancel('not needed');
    });
    // It rejects while the child before it still holds the thread.
    await expect(second).rejects.toThrow(CancelledError);
    expect(Atomics.load(flags, STARTED) === 0 || Atomics.load(flags, RELEASED) === 0).toBe(true);
    release(flags);
    await expect(done).resolves.toEqual(['released', undefined]);
    // Had it run after all, it would have marked the flag by the time its branch settled.
    expect(Atomics.load(flags, RAN)).toBe(0);
  });

  it('are not taken down with a thread ended because the child before them ignored its cancellation', async () => {
    await warmPool(1);
    const flags = newFlags();
    const results = await branch(
      async (children) => {
        const stubborn = children.add(ignoreCancellation, flags, 20_000);
        children.add(increment, 41);
        await waitForFlag(flags, STARTED);
        stubborn.cancel('stop');
      },
      { graceMs: 100 },
    );
    expect(results).toEqual([undefined, 42]);
  });

  it('go to a thread that fell idle rather than wait behind a long child', async () => {
    await warmPool(2);
    const flags = newFlags();
    const done = branch((children) => {
      children.add(holdUntilReleased, flags, 20_000);
      children.add(increment, 1);
      children.add(markRan, flags);
    });
    // The first child holds its thread until released: the third can only run on the other one.
    await waitForFlag(flags, RAN);
    release(flags);
    await expect(done).resolves.toEqual(['released', 2, 1]);
  });

  it('do not wait behind a child that waits on a channel for them', async () => {
    await warmPool(1);
    const channel = new Channel<number>(1);
    const sums = await branch((children) => {
      children.add(sumAll, channel);
      children.add(putThenClose, channel, 10);
    });
    expect(sums).toEqual([55, 10]);
    // The second was sent ahead, then taken back when the first began to wait: the thread it was
    // taken from never runs it, and the main thread keeps no record of it there.
    const threads = router().threads();
    expect(threads.map((thread) => router().jobCount(thread))).toEqual(threads.map(() => 0));
  });

  it('give back the references they carried when taken back, so that their monitor can be released', async () => {
    await warmPool(1);
    const tally = new Tally(0);
    const id = (endpointOf(tally) as LocalMonitor).id;
    const channel = new Channel<number>(1);
    const sums = await branch((children) => {
      children.add(sumAll, channel);
      // Sent ahead behind the first, taken back when the first waits, and sent again elsewhere.
      children.add(putThenCloseHolding, channel, 10, tally);
    });
    expect(sums).toEqual([55, 10]);
    // Once the threads that revived a reference are gone, none is out: the marker of the first
    // send, which no thread read, counts no more.
    await shutdown();
    expect(exportTable().markersOut(id)).toBeUndefined();
  });

  it('do not wait behind a child that waits for its own children', async () => {
    configure({ threads: 1 });
    const sums = await branch<number>((children) => {
      for (let i = 0; i < 3; i++) children.add(nestedSum, 20);
    });
    expect(sums).toEqual([210, 210, 210]);
  });
});

// Heavy: run once, in one jest project (the decorator set-up changes nothing here).
const once = decoratorMode === 'standard' ? it : it.skip;

describe('the queue of children', () => {
  once('runs 100,000 children queued in one branch, each in its place', async () => {
    await warmPool(2);
    const count = 100_000;
    const values = await branch<number>((children) => {
      for (let n = 0; n < count; n++) children.add(increment, n);
    });
    expect(values).toHaveLength(count);
    expect(values.every((value, index) => value === index + 1)).toBe(true);
  });
});
