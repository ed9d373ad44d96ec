import { branch, shutdown } from '../../lib';

/**
 * A message crafted to nest far deeper than any checked value can (posted raw on a worker's
 * parentPort, as any library in a child could) is refused by the thread that receives it, with a
 * clear error to the sender's request: it never overflows that thread's stack, and the thread
 * goes on serving everyone else.
 */

jest.setTimeout(60_000);
afterAll(() => shutdown());

/**
 * Runs `post(parentPort, reply)` in a child on a pool thread: `post` posts raw messages, and
 * `reply(requestId)` resolves with the `spawned` answer the main thread sends back for that
 * request. Resolves to what the child returns.
 */
async function fromChild<T>(post: (port: { postMessage(value: unknown): void }, reply: (requestId: number) => Promise<unknown>) => Promise<T>): Promise<T> {
  const source = `async () => {
    const { parentPort } = require('node:worker_threads');
    const reply = (requestId) => new Promise((resolve) => {
      const listen = (batch) => {
        for (const message of Array.isArray(batch) ? batch : []) {
          if (message && message.kind === 'spawned' && message.requestId === requestId) {
            parentPort.off('message', listen);
            resolve(message);
          }
        }
      };
      parentPort.on('message', listen);
    });
    return (${post.toString()})(parentPort, reply);
  }`;
  // A self-contained function made from source: the child runs `post` with the worker's parentPort.
  const child = new Function(`return ${source}`)() as () => Promise<T>;
  const [result] = await branch<T>((children) => void children.add(child));
  return result as T;
}

interface Answer {
  readonly ok: boolean;
  readonly error?: { readonly name: string; readonly message: string };
}

describe('a value nested far too deeply, posted raw to the main thread', () => {
  it('is refused with a ShareabilityError to the request that carried it, as plain data 1,500 levels deep', async () => {
    const answer = await fromChild<Answer>(async (port, reply) => {
      let deep: unknown = 0;
      for (let level = 0; level < 1500; level++) deep = { next: deep };
      const location = { file: '/nowhere/no-such-module.js', key: 'Nothing', ordinal: 0 };
      port.postMessage([{ kind: 'spawn', requestId: 918_273, location, args: [{ plain: deep }] }]);
      const answered = (await reply(918_273)) as Answer;
      return Object.freeze({ ok: answered.ok, error: Object.freeze({ name: answered.error?.name ?? '', message: answered.error?.message ?? '' }) });
    });
    expect(answer.ok).toBe(false);
    expect(answer.error?.name).toBe('ShareabilityError');
    expect(answer.error?.message).toMatch(/a value that arrived on the main thread .*\(1001 levels down\) is nested more than 1000 levels deep/);
    await expect(branch<number>((children) => void children.add((n: number) => n + 1, 1))).resolves.toEqual([2]);
  });

  it('is refused with a ShareabilityError, never a stack overflow, as the bytes of a large value 100,000 levels deep', async () => {
    const answer = await fromChild<Answer>(async (port, reply) => {
      // V8 serialization of [[[...0...]]], written by hand: v8.serialize would overflow making it.
      const depth = 100_000;
      const header = require('node:v8').serialize(0).subarray(0, 2) as Buffer;
      const bytes = Buffer.concat([header, ...new Array(depth).fill(Buffer.from([0x41, 0x01])), Buffer.from([0x49, 0x00]), ...new Array(depth).fill(Buffer.from([0x24, 0x00, 0x01]))]);
      const memory = new SharedArrayBuffer(bytes.length);
      new Uint8Array(memory).set(bytes);
      const location = { file: '/nowhere/no-such-module.js', key: 'Nothing', ordinal: 0 };
      port.postMessage([{ kind: 'spawn', requestId: 918_274, location, args: [{ bytes: memory, length: bytes.length }] }]);
      const answered = (await reply(918_274)) as Answer;
      return Object.freeze({ ok: answered.ok, error: Object.freeze({ name: answered.error?.name ?? '', message: answered.error?.message ?? '' }) });
    });
    expect(answer.ok).toBe(false);
    expect(answer.error?.name).toBe('ShareabilityError');
    expect(answer.error?.message).toMatch(/a value that arrived on the main thread is nested too deeply to be read/);
    await expect(branch<number>((children) => void children.add((n: number) => n * 2, 21))).resolves.toEqual([42]);
  });
});
