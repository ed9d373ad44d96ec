import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { branch, close, configure, MonitorClosedError, shutdown } from '../../lib';
import { ExportTable, exportTable } from '../../lib/monitor/export-table';
import type { LocalMonitor } from '../../lib/monitor/local-monitor';
import '../../lib/monitor/exported-monitors';
import { remoteReferenceCount } from '../../lib/monitor/remote-monitor';
import { decode, encode } from '../../lib/threads/serialize';
import { makeTally, Tally } from '../fixtures/monitors';
import { threadName } from '../fixtures/tasks';

jest.setTimeout(30_000);
beforeAll(() => configure({ threads: 1 }));
afterAll(() => shutdown());

/** The collector, for this thread only: jest runs without --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a tally on a pool worker, asks where it lives, and drops it: only its thread's id is left. */
async function tallyMadeAndDropped(): Promise<number> {
  const [tally] = await branch<Tally>((children) => void children.add(makeTally, 1));
  return (tally as Tally).thread();
}

describe('the export table', () => {
  const monitor = { id: 7 } as LocalMonitor;

  it('keeps a monitor exported while any marker that left is not let go', () => {
    const table = new ExportTable();
    expect(table.add(monitor)).toBe(true);
    expect(table.add(monitor)).toBe(false);
    expect(table.release(7, 1)).toBe(false);
    expect(table.find(7)).toBe(monitor);
    expect(table.release(7, 1)).toBe(true);
    expect(table.find(7)).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('counts a marker a holder passed on before the holder lets go of its own', () => {
    const table = new ExportTable();
    table.add(monitor); // to thread A
    table.release(7, -1); // A passes it on to B: told before the marker can reach B
    expect(table.release(7, 1)).toBe(false); // A's reference is collected
    expect(table.find(7)).toBe(monitor); // B may still hold it, or be about to revive it
    expect(table.release(7, 1)).toBe(true); // B lets go
  });

  it('keeps the export when a release races a newer marker to the same holder', () => {
    const table = new ExportTable();
    table.add(monitor); // marker 1 to A, revived
    table.add(monitor); // marker 2 to A, in flight
    expect(table.release(7, 1)).toBe(false); // A's first reference was collected before marker 2 arrived
    expect(table.release(7, 1)).toBe(true); // the reference revived from marker 2 goes too
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
  it('free their thread for children once every reference to them is collected', async () => {
    const gc = collector();
    // The tally's own branch starts the worker: the worker's port must not keep that branch's results.
    const owner = await tallyMadeAndDropped();
    // With one thread allowed, a child runs on the owner's thread only once it hosts nothing.
    let ranOn: number | undefined;
    for (let attempt = 0; attempt < 100 && ranOn !== owner; attempt++) {
      gc();
      await pause(20);
      [ranOn] = await branch<number>((children) => void children.add(threadName));
    }
    expect(ranOn).toBe(owner);
    expect(remoteReferenceCount()).toBe(0);
  });

  it('close there with close(ref): later calls reject with MonitorClosedError', async () => {
    const [tally] = await branch<Tally>((children) => void children.add(makeTally, 3));
    await expect((tally as Tally).add(1)).resolves.toBe(4);
    await close(tally as Tally);
    await expect((tally as Tally).value()).rejects.toThrow(MonitorClosedError);
  });
});
