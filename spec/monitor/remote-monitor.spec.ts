import { branch, configure, freeze, MonitorClosedError, ShareabilityError, shutdown } from '../../lib';
import { addMany, makeTally, Point, Tally, threadOf } from '../fixtures/monitors';

jest.setTimeout(30_000);
beforeAll(() => configure({ threads: 2 }));
afterAll(() => shutdown());

/** Makes a tally on a pool worker and returns its reference here. */
async function tallyOnWorker(start = 0): Promise<Tally> {
  const [tally] = await branch<Tally>((children) => void children.add(makeTally, start));
  return tally as Tally;
}

describe('monitors across threads', () => {
  it('passes a reference to children, whose calls run on the owner thread one at a time', async () => {
    const tally = new Tally();
    const results = await branch<number>((children) => {
      for (let i = 0; i < 4; i++) children.add(addMany, tally, 25, `child ${i}`);
    });
    await expect(tally.value()).resolves.toBe(100); // no lost update across threads
    expect(Math.max(...results)).toBe(100);
    const ownerThread = await tally.thread();
    expect(ownerThread).toBe(0);
    const seenFromWorker = await branch<number>((children) => void children.add(threadOf, tally));
    expect(seenFromWorker).toEqual([0]);
  });

  it('returns a reference to a monitor made on a worker, and calls on it run there', async () => {
    const tally = await tallyOnWorker(5);
    expect(tally).toBeInstanceOf(Tally);
    await expect(tally.thread()).resolves.not.toBe(0);
    await expect(tally.add(2)).resolves.toBe(7);
  });

  it('keeps FIFO order of calls made from one thread in one tick', async () => {
    const tally = await tallyOnWorker();
    const calls = Array.from({ length: 50 }, (_, i) => tally.add(1, `call ${i}`));
    await Promise.all(calls);
    const log = await tally.log();
    expect(log).toEqual(Array.from({ length: 50 }, (_, i) => `call ${i}`));
    expect(Object.isFrozen(log)).toBe(true);
  });

  it('rejects only the failing call, with its class and message, and the monitor stays usable', async () => {
    const tally = await tallyOnWorker();
    const failing = tally.fail('over the limit');
    const next = tally.add(1);
    await expect(failing).rejects.toThrow(RangeError);
    await expect(failing).rejects.toThrow('over the limit');
    await expect(next).resolves.toBe(1);
  });

  it('joins the remote stack to the caller stack', async () => {
    const tally = await tallyOnWorker();
    const error = (await tally.fail('where').catch((caught: unknown) => caught)) as Error;
    expect(error.stack).toMatch(/thread boundary/);
    expect(error.stack).toContain('remote-monitor.spec.ts');
  });

  it('checks arguments on the caller side, before anything is sent', async () => {
    const tally = await tallyOnWorker();
    await expect(tally.store([1] as readonly unknown[])).rejects.toThrow(ShareabilityError);
    await expect(tally.store([1] as readonly unknown[])).rejects.toThrow('Tally.store: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
    await expect(tally.store(freeze([1]))).resolves.toBeUndefined();
  });

  it('checks results on the owner side', async () => {
    const tally = await tallyOnWorker();
    await expect(tally.leak()).rejects.toThrow('Tally.leak: return value is a mutable Array; pass freeze(value) or a frozen copy');
  });

  it('delivers @shareable instances as instances of their class, frozen', async () => {
    const tally = await tallyOnWorker();
    const moved = await tally.move(new Point(1, 2), new Point(10, 20));
    expect(moved).toBeInstanceOf(Point);
    expect(moved).toEqual(new Point(11, 22));
    expect(Object.isFrozen(moved)).toBe(true);
  });

  it('passes references between workers: a call from one worker to a monitor on another', async () => {
    const first = await tallyOnWorker();
    const second = await tallyOnWorker(100);
    await expect(first.forward(second, 5)).resolves.toBe(105);
    await expect(second.log()).resolves.toEqual(['forwarded']);
  });

  it('gives a reference that comes back to its own thread as the very same reference', async () => {
    const tally = new Tally();
    const [same] = await branch<Tally>((children) => void children.add((t: Tally) => t, tally));
    expect(same).toBe(tally);
  });

  it('rejects every pending and later call with MonitorClosedError when the owner thread crashes', async () => {
    const tally = await tallyOnWorker();
    const crash = tally.crash(7);
    const pending = tally.add(1);
    await expect(crash).rejects.toThrow(MonitorClosedError);
    await expect(pending).rejects.toThrow(MonitorClosedError);
    await expect(tally.value()).rejects.toThrow(/Tally#\d+ is closed \(its thread crashed: it exited with code 7\)/);
    await expect(branch<number>((children) => void children.add((n: number) => n + 1, 1))).resolves.toEqual([2]);
  });
});
