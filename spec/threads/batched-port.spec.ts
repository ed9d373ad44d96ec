import { BatchedPort, type MessageTarget } from '../../lib/threads/batched-port';

/** A target that records what was posted, and can refuse a message as a clone failure would. */
function recorder(refuse?: (message: unknown) => boolean) {
  const posted: unknown[][] = [];
  const target: MessageTarget = {
    postMessage(value) {
      const batch = value as unknown[];
      if (refuse !== undefined && batch.some(refuse)) throw new DOMException('could not be cloned', 'DataCloneError');
      posted.push(batch);
    },
  };
  return { posted, target };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BatchedPort', () => {
  it('sends everything sent in one turn of the event loop as one message, in order', async () => {
    const { posted, target } = recorder();
    const port = new BatchedPort<number>(target, () => {});
    port.send(1);
    port.send(2);
    port.send(3);
    await Promise.resolve();
    expect(posted).toEqual([]); // not even after the microtasks: replies made by them join the batch
    await nextTurn();
    expect(posted).toEqual([[1, 2, 3]]);
    port.send(4);
    await nextTurn();
    expect(posted).toEqual([[1, 2, 3], [4]]);
  });

  it('resends one by one when a batch cannot be cloned, and reports only the message at fault', async () => {
    const { posted, target } = recorder((message) => message === 'bad');
    const undeliverable: unknown[] = [];
    const port = new BatchedPort<string>(target, (message) => undeliverable.push(message));
    port.send('a');
    port.send('bad');
    port.send('b');
    await nextTurn();
    expect(posted).toEqual([['a'], ['b']]);
    expect(undeliverable).toEqual(['bad']);
  });
});
