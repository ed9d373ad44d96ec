import { branch, close, configure, DefinitionError, freeze, MonitorClosedError, shutdown, sleep, spawn, transfer } from '../../lib';
import { actorThreads } from '../../lib/threads/actor-threads';
import { currentChildRunner } from '../../lib/threads/child-runner';
import type { ThreadPool } from '../../lib/threads/pool';
import { slowSquare, stubborn } from '../fixtures/tasks';
import { binaryTree, callFanOut, FanOut, Fragile, Launcher, makeVault, patientParent, squaresOf, Tally, Vault, writeShared } from '../fixtures/monitors';

jest.setTimeout(60_000);
afterEach(() => shutdown());

/** Waits until `check` holds, polling; the deadline is only a hang guard. */
async function eventually(check: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('the condition did not hold in time');
    await sleep(20);
  }
}

describe('work across threads, when things go wrong', () => {
  it('moves a transfer() argument to a monitor on another thread, as it would locally', async () => {
    const [vault] = await branch<Vault>((children) => void children.add(makeVault));
    const buffer = new Uint8Array([7, 8, 9]).buffer;
    await expect((vault as Vault).store(transfer(buffer))).resolves.toBe(7);
    expect(buffer.byteLength).toBe(0);
    await expect((vault as Vault).size()).resolves.toBe(3);
  });

  it('keeps shared memory shared inside a large frozen value', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(4));
    const big = freeze([shared, ...Array.from({ length: 5000 }, () => 0)]);
    await expect(branch<number>((children) => void children.add(writeShared, big))).resolves.toEqual([5001]);
    expect(shared[0]).toBe(42);
  });

  it('lets a task return its own branch results', async () => {
    await expect(branch<readonly number[]>((children) => void children.add(squaresOf, 3))).resolves.toEqual([[1, 4, 9]]);
  });

  it('resolves to frozen results', async () => {
    const results = await branch<number>((children) => void children.add((n: number) => n, 1));
    expect(Object.isFrozen(results)).toBe(true);
  });

  it('refuses a child added after its branch finished', async () => {
    let keep: Parameters<Parameters<typeof branch>[0]>[0] | undefined;
    await branch((children) => {
      keep = children;
    });
    expect(() => keep?.add((n: number) => n, 1)).toThrow(DefinitionError);
    expect(() => keep?.add((n: number) => n, 1)).toThrow('children.add was called after its branch finished');
  });

  it('ends the thread of a child cancelled alone that ignores it, after graceMs', async () => {
    const started = Date.now();
    const results = await branch<unknown>(
      (children) => {
        const slow = children.add(stubborn, 20_000);
        setTimeout(() => slow.cancel('not needed'), 100);
      },
      { graceMs: 200 },
    );
    expect(results).toEqual([undefined]);
    expect(Date.now() - started).toBeLessThan(10_000); // hang guard: not the 20 s of the child
  });

  it('does not stall an unrelated waiting parent when another branch gives up on a stubborn child', async () => {
    configure({ threads: 2 });
    const parent = branch<string>((children) => void children.add(patientParent, 800));
    await sleep(300); // the parent now waits for its nested child
    const stubbornRun = branch((children) => void children.add(stubborn, 20_000), { timeoutMs: 100, graceMs: 100 });
    await expect(stubbornRun).rejects.toThrow('timed out');
    await expect(parent).resolves.toEqual(['parent done']);
  });

  it('keeps threads that serve monitors out of the rotation, so a child cannot stall their calls', async () => {
    configure({ threads: 2 });
    const [vault] = await branch<Vault>((children) => void children.add(makeVault));
    const busy = branch((children) => void children.add(stubborn, 1500));
    await expect((vault as Vault).size()).resolves.toBe(0); // answered while the stubborn child spins elsewhere
    await busy;
  });

  it('cancels the children of a branch whose thread crashed', async () => {
    configure({ threads: 2 });
    const tally = new Tally();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const launcher = await spawn(Launcher);
    await expect(launcher.launchAndCrash(tally, flag)).rejects.toThrow(MonitorClosedError);
    await eventually(async () => Atomics.load(flag, 0) === 1);
  });

  it('ends an orphan only if it still runs after the grace, never a later pool\'s child that took its id', async () => {
    configure({ threads: 2 });
    const tally = new Tally();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const launcher = await spawn(Launcher);
    await expect(launcher.launchAndCrash(tally, flag)).rejects.toThrow(MonitorClosedError);
    await eventually(async () => Atomics.load(flag, 0) === 1); // the orphan stopped when cancelled
    await shutdown(); // the next pool numbers its children from 1 again, as the orphan's pool did
    // Runs past the orphan's grace (1 s) with the orphan's id: it must finish, not be ended.
    await expect(branch<number>((children) => void children.add(slowSquare, 3, 1500))).resolves.toEqual([9]);
  });

  it('rejects a spawn whose constructor throws, with its error, and ends that thread', async () => {
    const attempt = spawn(Fragile, -1);
    await expect(attempt).rejects.toThrow(RangeError);
    await expect(attempt).rejects.toThrow('Fragile needs a number from 0 up, got -1');
    await eventually(async () => actorThreads().size === 0);
    const fine = await spawn(Fragile, 1);
    await expect(fine.ok()).resolves.toBe(true);
    await close(fine);
  });
});

describe('the pool under nesting', () => {
  it('runs a branch inside a spawned actor', async () => {
    const fanOut = await spawn(FanOut);
    try {
      await expect(fanOut.squares(3)).resolves.toEqual([1, 4, 9]);
      await expect(fanOut.nested(2)).resolves.toHaveLength(3);
    } finally {
      await close(fanOut);
    }
  });

  it('does not stall when a child calls a monitor whose method runs a branch, on a pool of one', async () => {
    configure({ threads: 1 });
    const fanOut = new FanOut();
    await expect(branch<readonly number[]>((children) => void children.add(callFanOut, fanOut, 3))).resolves.toEqual([[1, 4, 9]]);
  });

  it('runs deep binary recursion of branches without growing threads beyond the cap', async () => {
    configure({ threads: 2 });
    await expect(branch<number>((children) => void children.add(binaryTree, 4))).resolves.toEqual([16]);
    // Children are placed beside their waiting ancestors: the tree of 31 branches needs few threads.
    expect((currentChildRunner() as ThreadPool).size).toBeLessThanOrEqual(2 * 4);
  });
});
