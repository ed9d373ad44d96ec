import { branch, Channel, shutdown } from '../../lib';
import { consume, produceUntilClosed } from '../fixtures/channels';

/**
 * close() while producers on other threads are putting (some in the ring, some waiting for room,
 * some on their way through the core) and consumers on other threads are waiting: every put that
 * succeeded is taken exactly once, no put that failed is, and nothing hangs.
 */

jest.setTimeout(120_000);
afterAll(() => shutdown());

describe('a channel closed while puts and gets are in flight on other threads', () => {
  it.each([1, 4, 64])('with capacity %i, delivers exactly the puts that succeeded', async (capacity) => {
    const each = 1_000_000;
    for (let round = 0; round < 3; round++) {
      const channel = new Channel<number>(capacity);
      const [succeeded, consumed] = await branch(async (children) => {
        const producing = branch<number>((inner) => {
          for (let index = 0; index < 2; index++) inner.add(produceUntilClosed, channel, index * each, (index + 1) * each);
        });
        const consuming = branch<readonly number[]>((inner) => {
          for (let index = 0; index < 2; index++) inner.add(consume, channel);
        });
        children.addLocal(() => producing);
        children.addLocal(() => consuming);
        await new Promise((resolve) => setTimeout(resolve, 150 + 50 * round));
        await channel.close();
      });
      const counts = succeeded as readonly number[];
      const expected = counts.flatMap((count, index) => Array.from({ length: count }, (_, offset) => index * each + offset));
      const taken = (consumed as readonly (readonly number[])[]).flat().sort((a, b) => a - b);
      expect(taken.length).toBe(expected.length);
      // Closed in the middle: no producer got to its end (a million values take seconds).
      expect(counts.every((count) => count < each)).toBe(true);
      expect(taken).toEqual(expected);
    }
  });
});
