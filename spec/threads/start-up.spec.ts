import { branch, Channel, Lock, SharedDict, shutdown } from '../../lib';

jest.setTimeout(30_000);
afterAll(() => shutdown());

/** Packages a worker must not load for a plain child: each costs start-up time in every thread. */
const HEAVY = /[\\/]node_modules[\\/](acorn|rxjs|typescript)[\\/]/;
/** safethread's own modules that a worker needs only once a channel, lock or shared dict reaches it. */
const ON_ARRIVAL = /[\\/]lib[\\/](channel|sync|shared-dict)[\\/]|[\\/]lib[\\/]decorators[\\/]shareable\./;

/** The modules of this worker whose path matches `pattern`, as a child's result. */
async function loadedOnAWorker(pattern: RegExp): Promise<readonly string[]> {
  const [loaded] = await branch<readonly string[]>((children) => {
    children.add((source: string) => Object.freeze(Object.keys(require.cache).filter((file) => new RegExp(source).test(file))), pattern.source);
  });
  return loaded as readonly string[];
}

describe('worker start-up', () => {
  it('loads no parser, rxjs or TypeScript compiler into a worker that runs an inline child', async () => {
    expect(await loadedOnAWorker(HEAVY)).toEqual([]);
  });

  it('loads no channel, lock, shared dict or @shareable code into a worker until one of those values reaches it', async () => {
    expect(await loadedOnAWorker(ON_ARRIVAL)).toEqual([]);
  });

  it('still receives a channel, a lock and a shared dict in a child of a worker that had not loaded their code', async () => {
    const channel = new Channel<number>(1);
    const lock = new Lock();
    const dict = new SharedDict<string, number>({ maxEntries: 4 });
    const [loaded] = await branch<readonly string[]>((children) => {
      children.add(
        async (values: Channel<number>, guard: Lock, counts: SharedDict<string, number>, source: string) => {
          await guard.run(() => counts.set('seen', 1));
          await values.put(7);
          return Object.freeze(Object.keys(require.cache).filter((file) => new RegExp(source).test(file)));
        },
        channel,
        lock,
        dict,
        ON_ARRIVAL.source,
      );
    });
    await expect(channel.get()).resolves.toBe(7);
    expect(dict.get('seen')).toBe(1);
    // Their modules loaded on that worker when the values arrived.
    expect(loaded).toEqual(expect.arrayContaining([expect.stringMatching(/[\\/]channel[\\/]channel\./), expect.stringMatching(/[\\/]sync[\\/]lock-codec\./), expect.stringMatching(/[\\/]shared-dict[\\/]shared-dict\./)]));
  });
});
