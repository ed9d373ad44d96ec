import { branch, CancellationSource, CancelledError, Channel, freeze, shutdown } from '../../lib';
import { putAll, takeAll } from './primitive-tasks';

jest.setTimeout(60_000);
afterAll(() => shutdown());

/** Strings that UTF-8 cannot hold as they are: a lone surrogate would come out as U+FFFD. */
const LONE_SURROGATES = freeze(['\uD800', 'a\uDC00b', '\uD83D', `${'x'.repeat(300)}\uDFFF`, 'ok']);

describe('Channel strings with lone surrogates', () => {
  it('carries them unchanged on one thread', async () => {
    const channel = new Channel<string>(8);
    for (const value of LONE_SURROGATES) await channel.put(value);
    const taken: string[] = [];
    for (let i = 0; i < LONE_SURROGATES.length; i++) taken.push(await channel.get());
    expect(taken).toEqual(LONE_SURROGATES);
  });

  it('carries them unchanged across threads', async () => {
    const channel = new Channel<unknown>(2);
    const [, taken] = await branch<unknown>((children) => {
      children.add(putAll, channel, LONE_SURROGATES);
      children.add(takeAll, channel);
    });
    expect(taken).toEqual(LONE_SURROGATES);
  });
});

describe('Channel order of one thread', () => {
  it('keeps puts in order when one waiting its turn is cancelled', async () => {
    const channel = new Channel<number>(1);
    // The turn is known to the core, so the puts below wait on this thread.
    await channel.put(0);
    await channel.get();
    await channel.put(0);
    const first = channel.put(1);
    const source = new CancellationSource();
    const cancelled = channel.put(2, { token: source.token });
    source.cancel('no longer');
    await expect(cancelled).rejects.toThrow(CancelledError);
    const third = channel.put(3);
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) taken.push(await channel.get());
    await Promise.all([first, third]);
    expect(taken).toEqual([0, 1, 3]);
  });

  it('keeps gets in order when one waiting its turn is cancelled', async () => {
    const channel = new Channel<number>(4);
    await channel.put(0);
    await channel.get();
    const first = channel.get();
    const source = new CancellationSource();
    const cancelled = channel.get({ token: source.token });
    source.cancel('no longer');
    await expect(cancelled).rejects.toThrow(CancelledError);
    const third = channel.get();
    await channel.put(1);
    await channel.put(2);
    await expect(Promise.all([first, third])).resolves.toEqual([1, 2]);
  });
});
