import { branch, configure, DefinitionError, freeze, shutdown, sleep, ThreadCrashError } from '../../lib';
import { verifiedValues } from '../../lib/shareability/verified-values';
import { currentChildRunner } from '../../lib/threads/child-runner';
import type { ThreadPool } from '../../lib/threads/pool';
import { exhaustMemory, lengthOf, nest } from '../fixtures/monitors';

jest.setTimeout(60_000);
afterEach(() => shutdown());

describe('the pool', () => {
  it('runs nested branches deeper than the pool has threads', async () => {
    configure({ threads: 2 });
    const [path] = await branch<readonly number[]>((children) => void children.add(nest, 3));
    expect(path?.slice(0, 3)).toEqual([3, 2, 1]);
    expect(typeof path?.[3]).toBe('number');
  });

  it('runs sibling nested branches side by side without starving', async () => {
    configure({ threads: 2 });
    const paths = await branch<readonly number[]>((children) => {
      for (let i = 0; i < 3; i++) children.add(nest, 2);
    });
    expect(paths.map((path) => path.slice(0, 2))).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ]);
  });

  it('rejects a child that runs out of memory under resourceLimits with ThreadCrashError, then works again', async () => {
    configure({ threads: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const attempt = branch((children) => void children.add(exhaustMemory));
    await expect(attempt).rejects.toThrow(ThreadCrashError);
    await expect(attempt).rejects.toThrow(/child exhaustMemory crashed its thread/);
    configure({ resourceLimits: {} });
    await expect(branch<number>((children) => void children.add((n: number) => n * 2, 21))).resolves.toEqual([42]);
  });

  it('serializes a large frozen value once for many children, and reuses the bytes later', async () => {
    configure({ threads: 2 });
    const big = freeze(Array.from({ length: 20_000 }, (_, i) => i));
    const sendToSix = () =>
      branch<number>((children) => {
        for (let i = 0; i < 6; i++) children.add(lengthOf, big);
      });
    await expect(sendToSix()).resolves.toEqual([20_000, 20_000, 20_000, 20_000, 20_000, 20_000]);
    const bytes = verifiedValues().serialized(big);
    expect(bytes?.bytes).toBeInstanceOf(SharedArrayBuffer);
    await expect(sendToSix()).resolves.toHaveLength(6);
    expect(verifiedValues().serialized(big)).toBe(bytes);
  });

  it('starts its first thread as the first child is prepared, and retires it when that child never comes', async () => {
    configure({ threads: 2, idleTimeoutMs: 50 });
    const pool = () => currentChildRunner() as ThreadPool;
    const notAFunction = 42 as unknown as () => void;
    await expect(branch((children) => void children.add(notAFunction))).rejects.toThrow(DefinitionError);
    // The thread started for it, before the function was looked at, goes like any idle thread.
    expect(pool().size).toBe(1);
    await waitFor(() => pool().size === 0);
    await expect(branch<number>((children) => void children.add((n: number) => n + 1, 1))).resolves.toEqual([2]);
    expect(pool().size).toBe(1);
  });

  it('retires a thread once idle for idleTimeoutMs since its last child, not since the one before', async () => {
    configure({ threads: 1, idleTimeoutMs: 1500 });
    const pool = () => currentChildRunner() as ThreadPool;
    const increment = (n: number) => n + 1;
    await expect(branch<number>((children) => void children.add(increment, 1))).resolves.toEqual([2]);
    await sleep(900);
    await expect(branch<number>((children) => void children.add(increment, 2))).resolves.toEqual([3]);
    await sleep(900);
    // Past the first child's deadline, not yet the second's: the thread is still there.
    expect(pool().size).toBe(1);
    await waitFor(() => pool().size === 0);
  });

  it('retires an idle thread by a shorter idleTimeoutMs configured while it waits', async () => {
    configure({ threads: 1, idleTimeoutMs: 600_000 });
    const pool = () => currentChildRunner() as ThreadPool;
    await expect(branch<number>((children) => void children.add((n: number) => n + 1, 1))).resolves.toEqual([2]);
    expect(pool().size).toBe(1);
    configure({ idleTimeoutMs: 50 });
    await waitFor(() => pool().size === 0);
  });

  it('refuses bad options with a message that says what it takes', () => {
    expect(() => configure({ threads: 0 })).toThrow(DefinitionError);
    expect(() => configure({ threads: 0 })).toThrow('configure: option `threads` must be a whole number from 1 up, got 0');
    expect(() => configure({ idleTimeoutMs: -1 })).toThrow('configure: option `idleTimeoutMs` must be a number of milliseconds from 0 up, got -1');
  });
});

/** Resolves once `condition()` holds; the test's own timeout is the hang guard. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
