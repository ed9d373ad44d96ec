import { branch, Channel, close, configure, MonitorClosedError, shutdown, spawn } from '../../lib';
import { ExportTable, exportTable } from '../../lib/monitor/export-table';
import type { LocalMonitor } from '../../lib/monitor/local-monitor';
import '../../lib/monitor/exported-monitors';
import { remoteReferenceCount } from '../../lib/monitor/remote-monitor';
import { decode, encode } from '../../lib/threads/serialize';
import { router } from '../../lib/threads/transport';
import { makeTally, Tally } from '../fixtures/monitors';
import { Closable, Keeper, makeClosable } from '../fixtures/release';
import { putThenCloseHolding, sumAll } from '../fixtures/pool-tasks';
import { threadName } from '../fixtures/tasks';
import { collector, retirementOnceCollected, withShortIdleTimeout } from '../helpers/thread-retirement';

jest.setTimeout(60_000);
beforeAll(() => configure({ threads: 1 }));
afterAll(() => shutdown());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a tally on a pool worker, asks where it lives, and drops it: only its thread's id is left. */
async function tallyMadeAndDropped(): Promise<number> {
  const [tally] = await branch<Tally>((children) => void children.add(makeTally, 1));
  return (tally as Tally).thread();
}

describe('the export table', () => {
  const monitor = { id: 7 } as LocalMonitor;
  const [A, B, C] = [3, 4, 5];

  it('keeps a monitor exported while any marker that left is not let go', () => {
    const table = new ExportTable();
    expect(table.add(monitor)).toBe(true); // to A
    expect(table.add(monitor)).toBe(false); // to B
    table.revived(7, A, 1);
    table.revived(7, B, 1);
    expect(table.release(7, A, 1)).toBe(false);
    expect(table.find(7)).toBe(monitor);
    expect(table.release(7, B, 1)).toBe(true);
    expect(table.find(7)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('counts a marker a holder passed on before the holder lets go of its own', () => {
    const table = new ExportTable();
    table.add(monitor); // to thread A
    table.revived(7, A, 1);
    table.passed(7, A, 1); // A passes it on to B: told before the marker can reach B
    expect(table.release(7, A, 1)).toBe(false); // A's reference is collected
    expect(table.find(7)).toBe(monitor); // B may still hold it, or be about to revive it
    table.revived(7, B, 1);
    expect(table.release(7, B, 1)).toBe(true); // B lets go
  });

  it('keeps the export when a release races a newer marker to the same holder', () => {
    const table = new ExportTable();
    table.add(monitor); // marker 1 to A, revived
    table.revived(7, A, 1);
    table.add(monitor); // marker 2 to A, in flight
    expect(table.release(7, A, 1)).toBe(false); // A's first reference was collected before marker 2 arrived
    table.revived(7, A, 1);
    expect(table.release(7, A, 1)).toBe(true); // the reference revived from marker 2 goes too
  });

  it("lets no thread release, pass on or close with markers it was never given", () => {
    const table = new ExportTable();
    table.add(monitor); // to A
    table.revived(7, A, 1);
    expect(table.release(7, B, 1000)).toBe(false); // B holds nothing: nothing moves
    table.passed(7, B, 1000); // nor can it pass on what it does not hold
    expect(table.markersOut(7)).toBe(1);
    expect(table.holds(7, A)).toBe(true);
    expect(table.holds(7, B)).toBe(false);
    expect(table.release(7, A, 1000)).toBe(true); // A lets go of what it holds, no more
    expect(table.markersOut(7)).toBeUndefined();
  });

  it('lets go, for a holder whose thread ended, of every marker it held, and keeps those of others and those in flight', () => {
    const table = new ExportTable();
    const other = { id: 8 } as LocalMonitor;
    table.add(monitor);
    table.revived(7, A, 1);
    table.add(monitor);
    table.revived(7, B, 1);
    table.add(other);
    table.revived(8, A, 1);
    table.add(other); // in flight to C
    expect(table.holderGone(A)).toBe(false); // 7 is B's still, 8 has a marker on its way
    expect(table.markersOut(7)).toBe(1);
    expect(table.markersOut(8)).toBe(1);
    table.revived(8, C, 1);
    expect(table.holderGone(C)).toBe(true);
    expect(table.find(8)).toBeUndefined();
    expect(table.holderGone(B)).toBe(true);
    expect(table.size).toBe(0);
  });

  it('says when it starts exporting and when it exports nothing any more, however the last export went', () => {
    const changes: boolean[] = [];
    const table = new ExportTable((hosting) => changes.push(hosting));
    table.add(monitor);
    table.add({ id: 8 } as LocalMonitor);
    table.revived(7, A, 1);
    expect(table.release(7, A, 1)).toBe(true);
    expect(changes).toEqual([true]);
    table.remove(8); // closed on its own thread
    expect(changes).toEqual([true, false]);
    table.add(monitor);
    table.revived(7, B, 1);
    table.holderGone(B);
    expect(changes).toEqual([true, false, true, false]);
  });
});

describe('markers of this thread', () => {
  it('count each encode, and a marker that comes back home counts itself back', () => {
    const tally = new Tally();
    const first = encode(tally, []);
    const second = encode(tally, []);
    const id = (first as unknown as { specials: readonly { marker: { id: number } }[] }).specials[0]!.marker.id;
    expect(exportTable().markersOut(id)).toBe(2);
    expect(decode(first)).toBe(tally);
    expect(exportTable().markersOut(id)).toBe(1);
    expect(decode(second)).toBe(tally);
    expect(exportTable().markersOut(id)).toBeUndefined();
  });
});

describe('monitors returned from children', () => {
  it('free their thread once every reference to them is collected: it retires when idle like any pool thread', async () => {
    const gc = collector();
    await withShortIdleTimeout(async () => {
      // The tally's own branch starts the worker: the worker's port must not keep that branch's results.
      const owner = await tallyMadeAndDropped();
      // A thread that hosts a monitor stays; once it hosts nothing, it retires when idle.
      expect(await retirementOnceCollected(owner, gc)).toBe('retired');
      expect(remoteReferenceCount()).toBe(0);
    });
  });

  it('close there with close(ref): later calls reject with MonitorClosedError', async () => {
    const [tally] = await branch<Tally>((children) => void children.add(makeTally, 3));
    await expect((tally as Tally).add(1)).resolves.toBe(4);
    await close(tally as Tally);
    await expect((tally as Tally).value()).rejects.toThrow(MonitorClosedError);
  });
});

describe('threads that host monitors', () => {
  /** Waits (10 s at most, a hang guard) until `done()`, running `step` between looks. */
  async function until(done: () => boolean | Promise<boolean>, step: () => unknown = () => pause(20)): Promise<boolean> {
    const deadline = Date.now() + 10_000;
    while (!(await done())) {
      if (Date.now() > deadline) return false;
      await step();
    }
    return true;
  }

  /** Makes a tally on a pool worker, gives it to an actor that keeps it, ends the actor and drops the tally: only its thread's id is left. */
  async function tallyKeptByAnActorThatEnded(): Promise<number> {
    const [tally] = await branch<Tally>((children) => void children.add(makeTally, 1));
    const keeper = await spawn(Keeper, tally as Tally);
    await expect(keeper.keeps()).resolves.toBe(true);
    const owner = await (tally as Tally).thread();
    await close(keeper);
    return owner;
  }

  it('let go of the references a holder thread held when it ends: the owner retires when idle', async () => {
    const gc = collector();
    await withShortIdleTimeout(async () => {
      const owner = await tallyKeptByAnActorThatEnded();
      // The owner hosts the tally until every reference is let go: the actor's must be let go for
      // it, as the actor never will. Then, hosting nothing, it retires when idle.
      expect(await retirementOnceCollected(owner, gc)).toBe('retired');
    });
  });

  it('are let go by a child taken back before it read the reference it carried: the owner retires when idle', async () => {
    const gc = collector();
    await withShortIdleTimeout(async () => {
      const owner = await (async () => {
        const [tally] = await branch<Tally>((children) => void children.add(makeTally, 1));
        const channel = new Channel<number>(1);
        await branch((children) => {
          children.add(sumAll, channel);
          // Sent ahead behind the first, taken back when the first waits on the channel, sent again to another thread.
          children.add(putThenCloseHolding, channel, 3, tally as Tally);
        });
        return (tally as Tally).thread();
      })();
      // Its holders let go (the reference here is collected, the threads that ran the children
      // retire when idle): then nothing is out, unless the first send's marker still counted, and
      // the owner, hosting nothing, retires too.
      expect(await retirementOnceCollected(owner, gc)).toBe('retired');
    });
  });

  it('whose last export is closed on their own thread take children again, and retire when idle', async () => {
    await withShortIdleTimeout(async () => {
      const [closable] = await branch<Closable>((children) => void children.add(makeClosable, 1));
      const owner = await (closable as Closable).thread();
      // The reference stays held here: only the close, on the owner's thread, ends the hosting.
      await (closable as Closable).closeHere();
      await expect((closable as Closable).thread()).rejects.toThrow(MonitorClosedError);
      let ranOn: number | undefined;
      const takesChildren = await until(
        () => ranOn === owner,
        async () => {
          await pause(20);
          [ranOn] = await branch<number>((children) => void children.add(threadName));
        },
      );
      expect(takesChildren).toBe(true);
      // Idle now, it retires like any other pool thread.
      expect(await until(() => !router().has(owner))).toBe(true);
      expect(closable).toBeDefined();
    });
  });
});
