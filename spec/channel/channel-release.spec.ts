import { branch, Channel, configure, shutdown } from '../../lib';
import { remoteReferenceCount } from '../../lib/monitor/remote-monitor';
import { makeChannel, makeChannels, takeOneEach } from '../fixtures/channels';
import { collector, releaseOnceCollected, retirementOnceCollected, withShortIdleTimeout } from '../helpers/thread-retirement';

/**
 * Channels that cross threads are released like monitors: when every handle of a channel on
 * other threads is collected, the thread that made it no longer exports its core, so the core and
 * its shared memory can go, and a pool thread that hosted only channels takes children again.
 */

jest.setTimeout(60_000);
beforeAll(() => configure({ threads: 1 }));
afterAll(() => shutdown());

/** Makes a channel in a child, takes its value here, and drops it: only the child's thread id is left. */
async function channelMadeUsedAndDropped(): Promise<number> {
  const [made] = await branch<readonly [Channel<number>, number]>((children) => void children.add(makeChannel, 41));
  const [channel, owner] = made as readonly [Channel<number>, number];
  await expect(channel.get()).resolves.toBe(41);
  await channel.put(42);
  return owner;
}

describe('a channel made in a child', () => {
  it('frees its thread once every handle of it is collected: it retires when idle like any pool thread', async () => {
    const gc = collector();
    await withShortIdleTimeout(async () => {
      const owner = await channelMadeUsedAndDropped();
      // A thread that hosts a channel's core stays; once it hosts nothing, it retires when idle.
      expect(await retirementOnceCollected(owner, gc)).toBe('retired');
      expect(remoteReferenceCount()).toBe(0);
    });
  });

  it('keeps no reference here after 2,000 were made in children, used on two threads and dropped', async () => {
    const gc = collector();
    const before = remoteReferenceCount();
    // In a function of its own: a loop's variables in this async test's frame would keep the last round alive.
    await makeUseAndDropChannels(10, 200);
    expect(await releaseOnceCollected(before, gc)).toBe('released');
  });
});

/** `rounds` times: `count` channels made in a child, one value put into each here and taken in another child. */
async function makeUseAndDropChannels(rounds: number, count: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const [made] = await branch<readonly Channel<number>[]>((children) => void children.add(makeChannels, count));
    const channels = made as readonly Channel<number>[];
    await Promise.all(channels.map((channel, index) => channel.put(index)));
    await expect(branch((children) => void children.add(takeOneEach, channels))).resolves.toEqual([((count - 1) * count) / 2]);
  }
}
