import { close, dumpMonitors, MonitorDump, shutdown, spawn } from '../../lib';
import { Hop } from '../fixtures/deadlocks';
import { settle } from '../helpers/latch';

jest.setTimeout(30_000);
afterAll(() => shutdown());

const labelOf = (reference: object) => String(reference).slice('[monitor '.length, -1);

describe('dumpMonitors', () => {
  it('shows a free monitor', async () => {
    const a = new Hop('A');
    const dump = await dumpMonitors();
    expect(dump).toBeInstanceOf(MonitorDump);
    expect(dump.monitors).toContainEqual({ monitor: labelOf(a), thread: 'main', running: [], queued: [] });
    expect(String(dump)).toContain(`${labelOf(a)} on main: free`);
  });

  it('shows the holder, what it waits for, and the queue', async () => {
    const a = new Hop('A');
    const b = new Hop('B');
    const held = b.holdWithTimer(200);
    const visiting = a.visit(Object.freeze([b]), 0);
    const queued = a.name();
    await settle();
    const dump = await dumpMonitors();
    const stateOfA = dump.monitors.find((state) => state.monitor === labelOf(a));
    expect(stateOfA).toMatchObject({ thread: 'main', running: [{ method: 'visit', sleeping: false }], queued: [{ method: 'name' }] });
    expect(stateOfA?.running[0]?.waitsFor).toEqual([expect.stringMatching(new RegExp(`^${labelOf(b)}\\.visit \\(call \\d+, main\\)$`))]);
    const stateOfB = dump.monitors.find((state) => state.monitor === labelOf(b));
    expect(stateOfB).toMatchObject({ running: [{ method: 'holdWithTimer' }], queued: [{ method: 'visit' }] });
    const text = String(dump);
    expect(text).toContain(`${labelOf(a)} on main: held by visit`);
    expect(text).toContain(`  visit waits for ${labelOf(b)}.visit`);
    expect(text).toContain('  queued: name');
    await Promise.all([held, visiting, queued]);
  });

  it('asks every thread, and marks a sleeping turn', async () => {
    const remote = await spawn(Hop, 'R');
    try {
      const sleeping = remote.visit(Object.freeze([]), 300);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const dump = await dumpMonitors();
      const state = dump.monitors.find((entry) => entry.monitor === labelOf(remote));
      expect(state).toMatchObject({ thread: expect.stringMatching(/^actor Hop \(thread \d+\)$/), running: [{ method: 'visit', sleeping: true }] });
      expect(dump.silentThreads).toEqual([]);
      expect(String(dump)).toContain('visit is sleeping');
      await sleeping;
    } finally {
      await close(remote);
    }
  });
});
