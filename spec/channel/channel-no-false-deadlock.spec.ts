import { Channel, close, shutdown, spawn } from '../../lib';
import { Drainer, Filler, Giver, Taker } from '../fixtures/channels';

/**
 * A channel wait is an edge of the wait-for graph only while it really waits: the moment a put
 * gives a waiting get its value (or a get gives a waiting put room), the edge is gone, whichever
 * thread the put or get ran on. A turn that puts the value its consumer waits for and at once
 * calls that consumer's monitor is healthy: the consumer takes the value, ends its turn, and
 * lets the call in. No DeadlockError.
 */

jest.setTimeout(60_000);
afterAll(() => shutdown());

describe.each([
  ['on one thread', false],
  ['with the consumer on another thread', true],
])('a producer that calls its waiting consumer right after the value it waits for, %s', (_where, remote) => {
  it('is not taken for a deadlock', async () => {
    const taker = remote ? await spawn(Taker) : new Taker();
    try {
      for (const capacity of [1, 4]) {
        for (let round = 0; round < 3; round++) {
          const channel = new Channel<number>(capacity);
          const taking = taker.take(channel, 3);
          const giving = new Giver().give(channel, taker, 3, remote ? 40 : 5);
          await expect(giving).resolves.toBe('acked');
          await expect(taking).resolves.toEqual([0, 1, 2]);
        }
      }
    } finally {
      if (remote) await close(taker);
    }
  });
});

describe.each([
  ['on one thread', false],
  ['with the producer on another thread', true],
])('a consumer that calls its waiting producer right after the take that gives it room, %s', (_where, remote) => {
  it('is not taken for a deadlock', async () => {
    const filler = remote ? await spawn(Filler) : new Filler();
    try {
      for (const capacity of [1, 3]) {
        for (let round = 0; round < 3; round++) {
          const channel = new Channel<number>(capacity);
          const count = capacity + 2;
          const filling = filler.fill(channel, count);
          const draining = new Drainer().drain(channel, filler, count, remote ? 40 : 5);
          await expect(draining).resolves.toEqual([Array.from({ length: count }, (_, index) => index), 'acked']);
          await expect(filling).resolves.toBe(count);
        }
      }
    } finally {
      if (remote) await close(filler);
    }
  });
});
