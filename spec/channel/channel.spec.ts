import { branch, CancellationSource, CancelledError, Channel, ChannelClosedError, close, DefinitionError, freeze, MonitorClosedError, ShareabilityError, shutdown, spawn } from '../../lib';
import { consume, Doomed, produce, Sink, Source } from '../fixtures/channels';
import { settle } from '../helpers/latch';

jest.setTimeout(60_000);
afterAll(() => shutdown());

/** Whether a promise is still pending after everything ready has run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return !settled;
}

describe('Channel', () => {
  it('hands values out first in, first out', async () => {
    const channel = new Channel<number>(3);
    await channel.put(1);
    await channel.put(2);
    await channel.put(3);
    await expect(Promise.all([channel.get(), channel.get(), channel.get()])).resolves.toEqual([1, 2, 3]);
    expect(channel.capacity).toBe(3);
  });

  it('makes put wait while full and get while empty', async () => {
    const channel = new Channel<string>(1);
    const waitingGet = channel.get();
    expect(await isPending(waitingGet)).toBe(true);
    await channel.put('a');
    await expect(waitingGet).resolves.toBe('a');
    await channel.put('b');
    const waitingPut = channel.put('c');
    expect(await isPending(waitingPut)).toBe(true);
    await expect(channel.get()).resolves.toBe('b');
    await expect(waitingPut).resolves.toBeUndefined();
    await expect(channel.get()).resolves.toBe('c');
  });

  it('on close, fails waiting and later puts, lets gets drain, then ends them and for await', async () => {
    const channel = new Channel<number>(2);
    await channel.put(1);
    await channel.put(2);
    const waitingPut = channel.put(3);
    await channel.close();
    await expect(waitingPut).rejects.toThrow(ChannelClosedError);
    await expect(channel.put(4)).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED', message: expect.stringMatching(/^Channel#\d+ is closed: no value can be put in it any more/) });
    const taken: number[] = [];
    for await (const value of channel) taken.push(value);
    expect(taken).toEqual([1, 2]);
    await expect(channel.get()).rejects.toMatchObject({ name: 'ChannelClosedError', code: 'ERR_CHANNEL_DRAINED' });
    await expect(channel.close()).resolves.toBeUndefined();
  });

  it('ends a waiting get at close', async () => {
    const channel = new Channel<number>(1);
    const waiting = channel.get();
    await channel.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_CHANNEL_DRAINED' });
  });

  it('refuses a capacity that is not a whole number from 1 up', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Channel(capacity)).toThrow(DefinitionError);
    }
    expect(() => new Channel(0)).toThrow('new Channel(capacity): option `capacity` must be a whole number from 1 up, got 0');
  });

  it('refuses a value that is not shareable, naming the fix', async () => {
    const channel = new Channel<readonly number[]>(1);
    await expect(channel.put([1, 2] as readonly number[])).rejects.toThrow(ShareabilityError);
    await expect(channel.put([1, 2] as readonly number[])).rejects.toThrow(/Channel\.put: argument 0 is a mutable Array; pass freeze\(value\)/);
    await channel.put(freeze([1, 2]));
    await expect(channel.get()).resolves.toEqual([1, 2]);
  });

  it('ends waits with CancelledError when their token is cancelled, losing nothing', async () => {
    const channel = new Channel<number>(1);
    const source = new CancellationSource();
    const get = channel.get({ token: source.token });
    source.cancel('enough');
    await expect(get).rejects.toBeInstanceOf(CancelledError);
    await channel.put(1);
    // The cancelled get took nothing: the value is still there.
    await expect(channel.get()).resolves.toBe(1);

    await channel.put(2);
    const putSource = new CancellationSource();
    const put = channel.put(3, { token: putSource.token });
    putSource.cancel();
    await expect(put).rejects.toBeInstanceOf(CancelledError);
    await expect(channel.get()).resolves.toBe(2);
    const after = channel.get();
    expect(await isPending(after)).toBe(true);
    await channel.put(4);
    await expect(after).resolves.toBe(4);
  });

  it('travels to a monitor on another thread and back as the same channel', async () => {
    const sink = await spawn(Sink);
    try {
      const channel = new Channel<number>(4);
      await channel.put(7);
      await channel.put(8);
      await expect(sink.takeTwo(channel)).resolves.toEqual([7, 8]);
    } finally {
      await close(sink);
    }
  });

  it('takes back the waiting get of a thread that died, so the next value is not lost', async () => {
    const channel = new Channel<number>(1);
    const doomed = await spawn(Doomed);
    await expect(doomed.getThenDie(channel)).rejects.toBeInstanceOf(MonitorClosedError);
    await channel.put(42);
    const source = new CancellationSource();
    const guard = setTimeout(() => source.cancel('the value was lost'), 5000);
    await expect(channel.get({ token: source.token })).resolves.toBe(42);
    clearTimeout(guard);
  });

  it('carries 100,000 values between two producers and two consumers on other threads, each exactly once', async () => {
    const channel = new Channel<number>(64);
    const half = 50_000;
    const [produced, consumed] = await branch(async (children) => {
      const producers = branch((inner) => {
        inner.add(produce, channel, 0, half);
        inner.add(produce, channel, half, 2 * half);
      }).then(async (counts) => {
        await channel.close();
        return counts;
      });
      const consumers = branch((inner) => {
        inner.add(consume, channel);
        inner.add(consume, channel);
      });
      children.addLocal(() => producers);
      children.addLocal(() => consumers);
    });
    expect(produced).toEqual([half, half]);
    const [first, second] = consumed as readonly (readonly number[])[];
    // Each consumer saw its values in put order per producer.
    for (const taken of [first, second] as (readonly number[])[]) {
      const low = taken.filter((value) => value < half);
      expect(low).toEqual([...low].sort((a, b) => a - b));
    }
    const all = [...(first as readonly number[]), ...(second as readonly number[])].sort((a, b) => a - b);
    expect(all).toHaveLength(2 * half);
    expect(all.every((value, index) => value === index)).toBe(true);
  });

  describe.each([
    ['on one thread', false],
    ['with the consumer on another thread', true],
  ])('a channel deadlock %s', (_where, remote) => {
    it('rejects one wait with a DeadlockError naming the channel, and both sides finish', async () => {
      const sink = remote ? await spawn(Sink) : new Sink();
      const source = new Source();
      try {
        const channel = new Channel<number>(4);
        const taking = sink.takeTwo(channel);
        await settle();
        await source.run(channel, sink);
        const taken = await taking;
        const failures = (await Promise.all([sink.failure(), source.failure()])).filter((failure) => failure !== '');
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatch(/^deadlock: /);
        for (const name of [/Channel#\d+\.get/, /Source#\d+\.run/, /Sink#\d+\.takeTwo/]) expect(failures[0]).toMatch(name);
        // Whichever wait was rejected, nothing hangs and no value is lost.
        expect(taken.length === 2 || failures[0]?.includes('Channel')).toBe(true);
      } finally {
        if (remote) await close(sink);
      }
    });
  });
});
