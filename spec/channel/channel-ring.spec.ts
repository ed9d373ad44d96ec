import fc from 'fast-check';
import { branch, CancellationSource, CancelledError, Channel, close, freeze, MonitorClosedError, shutdown, spawn } from '../../lib';
import { consume, describeAll, DoomedConsumer, produce, Sink } from '../fixtures/channels';
import { settle } from '../helpers/latch';

/**
 * What the shared-memory path of a channel (values put and taken without a message, waits on the
 * thread that waits) must keep: nothing taken but by a get that returns it, waits taken back
 * without a trace, the order of values whatever path each took, each value exactly once.
 */

jest.setTimeout(120_000);
afterAll(() => shutdown());

describe('a channel between threads', () => {
  it('loses nothing when a consumer thread dies: it took only what its gets returned', async () => {
    const channel = new Channel<number>(4);
    const doomed = await spawn(DoomedConsumer);
    const producing = (async () => {
      for (let value = 0; value < 20; value++) await channel.put(value);
    })();
    await expect(doomed.takeThenDie(channel, 5)).rejects.toBeInstanceOf(MonitorClosedError);
    const rest: number[] = [];
    for (let index = 0; index < 15; index++) rest.push(await channel.get());
    await producing;
    expect(rest).toEqual(Array.from({ length: 15 }, (_, index) => index + 5));
    await close(doomed).catch(() => undefined);
  });

  it('keeps the order and every value when some must go through its core: large ones, tokens, references, channels', async () => {
    const channel = new Channel<unknown>(8);
    const large = freeze({ text: 'x'.repeat(200_000) });
    const token = new CancellationSource().token;
    const inner = new Channel<number>(1);
    const sink = new Sink();
    await channel.put(1);
    await channel.put(large);
    await channel.put(2);
    await channel.put(token);
    await channel.put(freeze({ inner }));
    await channel.put(sink);
    await channel.put(3);
    // Taken on another thread, in the order put.
    const taken = await branch<readonly string[]>((children) => void children.add(describeAll, channel, 7));
    expect(taken[0]).toEqual(['1', 'large 200000', '2', 'token', 'channel 1', 'monitor', '3']);
  });

  it('ends a cancelled put or get waiting among others without a trace: the rest keep their order', async () => {
    const full = new Channel<number>(2);
    await full.put(1);
    await full.put(2);
    const source = new CancellationSource();
    const third = full.put(3);
    const cancelledPut = full.put(4, { token: source.token });
    const fifth = full.put(5);
    await settle();
    source.cancel('changed my mind');
    await expect(cancelledPut).rejects.toBeInstanceOf(CancelledError);
    const values = [await full.get(), await full.get(), await full.get(), await full.get()];
    await Promise.all([third, fifth]);
    expect(values).toEqual([1, 2, 3, 5]);

    const empty = new Channel<number>(4);
    const getSource = new CancellationSource();
    const first = empty.get();
    const cancelledGet = empty.get({ token: getSource.token });
    const second = empty.get();
    await settle();
    getSource.cancel();
    await expect(cancelledGet).rejects.toBeInstanceOf(CancelledError);
    await empty.put(10);
    await empty.put(20);
    await empty.put(30);
    await expect(Promise.all([first, second])).resolves.toEqual([10, 20]);
    await expect(empty.get()).resolves.toBe(30);
  });

  it('hands each value to exactly one consumer, in put order per producer, for any numbers of producers, consumers and capacity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          producers: fc.integer({ min: 1, max: 3 }),
          consumers: fc.integer({ min: 1, max: 3 }),
          capacity: fc.integer({ min: 1, max: 8 }),
          each: fc.integer({ min: 1, max: 400 }),
        }),
        async ({ producers, consumers, capacity, each }) => {
          const channel = new Channel<number>(capacity);
          const [, consumed] = await branch(async (children) => {
            const producing = branch((inner) => {
              for (let index = 0; index < producers; index++) inner.add(produce, channel, index * each, (index + 1) * each);
            }).then(async (counts) => {
              await channel.close();
              return counts;
            });
            const consuming = branch((inner) => {
              for (let index = 0; index < consumers; index++) inner.add(consume, channel);
            });
            children.addLocal(() => producing);
            children.addLocal(() => consuming);
          });
          const lists = consumed as readonly (readonly number[])[];
          for (const taken of lists) {
            for (let producer = 0; producer < producers; producer++) {
              const own = taken.filter((value) => Math.floor(value / each) === producer);
              if (!own.every((value, index) => index === 0 || (own[index - 1] as number) < value)) return false;
            }
          }
          const all = lists.flat().sort((a, b) => a - b);
          return all.length === producers * each && all.every((value, index) => value === index);
        },
      ),
      { seed: 20261203, numRuns: 12 },
    );
  });
});

describe('a channel with more capacity than its ring has slots', () => {
  it('holds every value up to its capacity, in order, the ones beyond the slots waiting in its core', async () => {
    const capacity = 40_000;
    const channel = new Channel<number>(capacity);
    for (let value = 0; value < capacity; value++) await channel.put(value);
    // Full: one more waits for room.
    const extra = channel.put(capacity);
    await settle();
    const taken = await branch<readonly number[]>((children) => void children.add(describeAll, channel, 3));
    expect(taken[0]).toEqual(['0', '1', '2']);
    await extra;
    let expected = 3;
    let inOrder = true;
    for (let index = 3; index <= capacity; index++) if ((await channel.get()) !== expected++) inOrder = false;
    expect(inOrder).toBe(true);
  });
});
