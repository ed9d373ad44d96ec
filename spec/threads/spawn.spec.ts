import { branch, close, DefinitionError, freeze, MonitorClosedError, shutdown, spawn, ThreadCrashError } from '../../lib';
import { Tally } from '../fixtures/monitors';

jest.setTimeout(30_000);
afterAll(() => shutdown());

describe('spawn', () => {
  it('constructs the monitor on a thread of its own, with its arguments', async () => {
    const tally = await spawn(Tally, 10);
    try {
      expect(tally).toBeInstanceOf(Tally);
      const thread = await tally.thread();
      expect(thread).not.toBe(0);
      await expect(tally.add(5)).resolves.toBe(15);
    } finally {
      await close(tally);
    }
  });

  it('gives each actor its own thread', async () => {
    const a = await spawn(Tally);
    const b = await spawn(Tally);
    try {
      expect(await a.thread()).not.toBe(await b.thread());
    } finally {
      await Promise.all([close(a), close(b)]);
    }
  });

  it('closes with await using, and calls after close reject with MonitorClosedError', async () => {
    let escaped: Tally | undefined;
    {
      await using tally = await spawn(Tally);
      escaped = tally;
      await tally.add(1);
    }
    await expect((escaped as Tally).value()).rejects.toThrow(MonitorClosedError);
    await expect((escaped as Tally).value()).rejects.toThrow(/is closed \(it was closed\)/);
  });

  it('rejects calls still in flight when the actor is closed', async () => {
    const tally = await spawn(Tally);
    const pending = expect(tally.add(1)).rejects.toThrow(MonitorClosedError);
    await close(tally);
    await pending;
  });

  it('rejects with the constructor error when construction fails', async () => {
    await expect(spawn(Tally, freeze([1]) as unknown as number)).resolves.toBeDefined();
    await expect(spawn(Tally, [1] as unknown as number)).rejects.toThrow('spawn Tally: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
  });

  it('refuses a class that is not a @Monitor', async () => {
    class Plain {}
    await expect(spawn(Plain)).rejects.toThrow(DefinitionError);
    await expect(spawn(Plain)).rejects.toThrow('spawn(Class, ...args) takes a @Monitor class, got class Plain; decorate the class with @Monitor');
  });

  it('rejects calls with MonitorClosedError when the actor thread crashes', async () => {
    const tally = await spawn(Tally);
    await expect(tally.crash(4)).rejects.toThrow(MonitorClosedError);
    await expect(tally.value()).rejects.toThrow(/its thread crashed: it exited with code 4/);
  });

  it('can be spawned from a worker, and its reference returned', async () => {
    const [tally] = await branch<Tally>((children) => {
      children.add(
        async (lib: string, fixtures: string) => {
          const { spawn: spawnThere } = require(lib) as typeof import('../../lib');
          const { Tally: TallyThere } = require(fixtures) as typeof import('../fixtures/monitors');
          const actor = await spawnThere(TallyThere, 3);
          await actor.add(1);
          return actor;
        },
        require.resolve('../../lib'),
        require.resolve('../fixtures/monitors'),
      );
    });
    await expect((tally as Tally).value()).resolves.toBe(4);
    await close(tally as Tally);
  });

  it('lets shutdown end every actor', async () => {
    const tally = await spawn(Tally);
    await shutdown();
    await expect(tally.value()).rejects.toThrow(MonitorClosedError);
  });
});

void ThreadCrashError;
