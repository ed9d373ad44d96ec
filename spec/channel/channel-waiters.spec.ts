import { branch, CancellationSource, CancelledError, Channel, freeze, shutdown } from '../../lib';
import { decode, encode } from '../../lib/threads/serialize';
import { putAll, takeAll } from './primitive-tasks';

jest.setTimeout(60_000);
afterAll(() => shutdown());

/** Word 2 of a channel's ring (lib/channel/ring.ts, WAITERS): set while its core waits for changes, which makes every put and take wake it. */
const WAITERS = 2;

/** The ring memory a channel carries when it crosses threads. */
function ringOf(channel: Channel<unknown>): Int32Array {
  const encoded = encode(channel, []) as { readonly specials: readonly { readonly marker: { readonly ring: SharedArrayBuffer } }[] };
  const memory = (encoded.specials[0] as { readonly marker: { readonly ring: SharedArrayBuffer } }).marker.ring;
  // Taking the encoded channel back counts its reference back.
  decode(encoded as Parameters<typeof decode>[0]);
  return new Int32Array(memory);
}

async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Channel waits and wake-ups', () => {
  it('leaves its core watching nothing once a wait it was shown ends without it (cancelled)', async () => {
    const channel = new Channel<number>(1);
    const ring = ringOf(channel);
    const source = new CancellationSource();
    const waiting = channel.get({ token: source.token });
    // Past a turn, the wait is shown to the core, which watches the ring for it.
    await turns(3);
    expect(Atomics.load(ring, WAITERS)).toBe(1);
    source.cancel('enough');
    await expect(waiting).rejects.toThrow(CancelledError);
    // The core stops watching at its next look (within a moment); before, it kept watching for ever
    // and every put and take paid a wake-up for nobody. The jest timeout is the hang guard.
    while (Atomics.load(ring, WAITERS) !== 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await channel.put(1);
    await expect(channel.get()).resolves.toBe(1);
  });

  it('carries numbers, strings, booleans, null and undefined as themselves, in order, across threads', async () => {
    const long = 'x€'.repeat(2000);
    const values = freeze([0, -0, 1.5, -7, Number.NaN, Infinity, Number.MAX_SAFE_INTEGER, '', 'a', 'héllo 😀', 'y'.repeat(255), 'z'.repeat(300), long, true, false, null, undefined, 10n, freeze({ a: 1 })]);
    const channel = new Channel<unknown>(4);
    const [, taken] = await branch<unknown>((children) => {
      children.add(putAll, channel, values);
      children.add(takeAll, channel);
    });
    expect(taken).toEqual(values);
    expect(Object.is((taken as readonly unknown[])[1], -0)).toBe(true);
  });
});
