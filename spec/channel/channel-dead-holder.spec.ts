import { branch, Channel, shutdown } from '../../lib';
import { churn, putMarkAndFindIt } from '../fixtures/channels';

/**
 * A thread terminated in the middle of a put or a take (a child past its grace period, or out of
 * memory) never lets go of the ring's lock in shared memory: the channel must not wedge every
 * other thread that uses it. The lock is taken over once its holder is known dead, the ring made
 * whole, and the channel goes on: values in it before are still there, in order.
 */

jest.setTimeout(120_000);
afterAll(() => shutdown());

describe('a channel whose user thread is terminated mid-put or mid-get', () => {
  it('goes on working on other threads', async () => {
    const channel = new Channel<string>(4);
    for (let round = 0; round < 16; round++) {
      // Cancelled after 100 ms, it ignores it: terminated 20 ms later, wherever it is.
      await branch((children) => void children.add(churn, channel), { timeoutMs: 100, graceMs: 20 }).catch(() => undefined);
      // A wedged lock would block this child for good (Atomics.wait): its branch then times out.
      const [before] = await branch<number>((children) => void children.add(putMarkAndFindIt, channel), { timeoutMs: 10_000, graceMs: 100 });
      // At most the one value churn had put and not taken again.
      expect(before).toBeLessThanOrEqual(1);
    }
  });
});
