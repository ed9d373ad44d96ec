import {
  branch,
  CancellationSource,
  CancellationToken,
  CancelledError,
  close,
  DefinitionError,
  dumpMonitors,
  isShareable,
  Lock,
  LockError,
  MonitorClosedError,
  Semaphore,
  shutdown,
  type Permit,
  spawn,
} from '../../lib';
import { acquireWithin, addUnderLock, Doomed, dropPermit, holdPermit, LockHolder, LockTaker } from '../fixtures/sync';
import { settle } from '../helpers/latch';
import { warmPool } from '../helpers/warm-pool';

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
  await settle();
  return !settled;
}

/** Whether the lock is held now: an acquire would wait (it is then taken back, taking nothing). */
async function isHeld(lock: Lock): Promise<boolean> {
  const source = new CancellationSource();
  const attempt = lock.acquire({ token: source.token });
  const held = await isPending(attempt);
  source.cancel();
  const permit = await attempt.catch(() => undefined);
  permit?.release();
  return held;
}

/** Waits until the monitor dump says `text` (within 5 s): the waits a test builds up are in place. */
async function untilDumpShows(text: RegExp): Promise<void> {
  for (let tries = 0; tries < 250; tries++) {
    if (text.test(String(await dumpMonitors()))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the monitor dump never showed ${String(text)}:\n${String(await dumpMonitors())}`);
}

const labelOf = (reference: object) => String(reference).slice('[monitor '.length, -1);

/** A token that ends a wait that hangs, so that a lost permit fails the test instead of timing it out. */
function hangGuard(ms = 5000): { readonly token: CancellationSource['token']; done(): void } {
  const source = new CancellationSource();
  const timer = setTimeout(() => source.cancel('the lock was never released'), ms);
  return { token: source.token, done: () => clearTimeout(timer) };
}

describe('Lock', () => {
  it('gives the lock to one holder at a time, first come first served', async () => {
    const lock = new Lock();
    const first = await lock.acquire();
    const order: string[] = [];
    const waits = ['b', 'c', 'd'].map((name) => lock.acquire().then((permit) => (order.push(name), permit)));
    expect(await isPending(waits[0] as Promise<Permit>)).toBe(true);
    first.release();
    for (const wait of waits) (await wait).release();
    expect(order).toEqual(['b', 'c', 'd']);
  });

  it('releases at the end of a using or await using block', async () => {
    const lock = new Lock();
    {
      using permit = await lock.acquire();
      expect(permit.released).toBe(false);
      expect(await isHeld(lock)).toBe(true);
    }
    const guard = hangGuard();
    {
      await using permit = await lock.acquire({ token: guard.token });
      expect(permit.count).toBe(1);
    }
    (await lock.acquire({ token: guard.token })).release();
    guard.done();
  });

  it('run() releases whether its function returns or throws, and gives back its result', async () => {
    const lock = new Lock();
    await expect(lock.run(() => 42)).resolves.toBe(42);
    await expect(
      lock.run(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const guard = hangGuard();
    (await lock.acquire({ token: guard.token })).release();
    guard.done();
  });

  it('refuses a second release with a LockError naming the lock', async () => {
    const lock = new Lock();
    const permit = await lock.acquire();
    permit.release();
    expect(permit.released).toBe(true);
    expect(() => permit.release()).toThrow(LockError);
    expect(() => permit.release()).toThrow(expect.objectContaining({ name: 'LockError', code: 'ERR_LOCK_RELEASED' }));
    expect(() => permit.release()).toThrow(/^a permit of Lock#\d+ was already released; release each permit once/);
    expect(() => {
      using again = permit;
      void again;
    }).toThrow(expect.objectContaining({ code: 'ERR_LOCK_RELEASED' }));
    // The extra releases gave nothing away: the lock is still one holder at a time.
    const next = await lock.acquire();
    expect(await isHeld(lock)).toBe(true);
    next.release();
  });

  it('ends a waiting acquire with CancelledError when its token is cancelled, taking nothing', async () => {
    const lock = new Lock();
    const held = await lock.acquire();
    const source = new CancellationSource();
    const waiting = lock.acquire({ token: source.token });
    expect(await isPending(waiting)).toBe(true);
    source.cancel('enough');
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    await expect(waiting).rejects.toThrow(/^Lock#\d+\.acquire was cancelled/);
    held.release();
    // The cancelled wait took nothing: the lock is free.
    const guard = hangGuard();
    (await lock.acquire({ token: guard.token })).release();
    // A token cancelled before the acquire fails it at once, even with the lock free.
    await expect(lock.acquire({ token: source.token })).rejects.toBeInstanceOf(CancelledError);
    (await lock.acquire({ token: guard.token })).release();
    guard.done();
  });

  it('is shareable, and its permits are not', async () => {
    const lock = new Lock();
    expect(isShareable(lock)).toBe(true);
    expect(isShareable(new Semaphore(2))).toBe(true);
    const permit = await lock.acquire();
    expect(isShareable(permit)).toBe(false);
    permit.release();
  });
});

describe('Semaphore', () => {
  it('never lets more than its permits be held, and serves a large request before smaller ones behind it', async () => {
    const semaphore = new Semaphore(3);
    expect(semaphore.permits).toBe(3);
    const two = await semaphore.acquire(2);
    const three = semaphore.acquire(3);
    const one = semaphore.acquire({ token: CancellationToken.none });
    // One permit is free, but the request for three came first.
    expect(await isPending(three)).toBe(true);
    expect(await isPending(one)).toBe(true);
    two.release();
    const big = await three;
    expect(big.count).toBe(3);
    expect(await isPending(one)).toBe(true);
    big.release();
    (await one).release();
  });

  it('lets exactly its permits run at once on one thread', async () => {
    const semaphore = new Semaphore(2);
    let now = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        semaphore.run(async () => {
          most = Math.max(most, ++now);
          await settle();
          now--;
        }),
      ),
    );
    expect(most).toBe(2);
  });

  it('refuses a count it cannot give, and a size that is not a whole number from 1 up', async () => {
    const semaphore = new Semaphore(2);
    await expect(semaphore.acquire(3)).rejects.toThrow(DefinitionError);
    await expect(semaphore.acquire(0)).rejects.toThrow(/^Semaphore#\d+\.acquire\(count\): option `count` must be a whole number from 1 to 2, got 0/);
    await expect(semaphore.run(() => 1, { count: 1.5 })).rejects.toThrow(DefinitionError);
    for (const permits of [0, -1, 1.5, Number.NaN]) expect(() => new Semaphore(permits)).toThrow(DefinitionError);
  });
});

describe('locks across threads', () => {
  beforeAll(() => warmPool(2));

  it('keeps four children on other threads from losing a single update of a shared counter', async () => {
    const lock = new Lock();
    const memory = new SharedArrayBuffer(4);
    const times = 40;
    const done = await branch((children) => {
      for (let i = 0; i < 4; i++) children.add(addUnderLock, lock, memory, times);
      // The main thread takes part too.
      children.addLocal(() => addUnderLock(lock, memory, times));
    });
    expect(done).toEqual([times, times, times, times, times]);
    expect(new Int32Array(memory)[0]).toBe(5 * times);
  });

  it('never lets more holders than permits in, across threads', async () => {
    const semaphore = new Semaphore(2);
    const memory = new SharedArrayBuffer(8);
    await branch((children) => {
      for (let i = 0; i < 6; i++) children.add(holdPermit, semaphore, memory, 5);
    });
    const counts = new Int32Array(memory);
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBeGreaterThanOrEqual(1);
    expect(counts[1]).toBeLessThanOrEqual(2);
  });

  it('cancels a wait on another thread by its token, and the permit stays free', async () => {
    const lock = new Lock();
    const held = await lock.acquire();
    await expect(branch((children) => {
      children.add(acquireWithin, lock, 100);
    })).resolves.toEqual(['CancelledError']);
    held.release();
    await expect(branch((children) => {
      children.add(acquireWithin, lock, 5000);
    })).resolves.toEqual(['acquired']);
  });

  it('releases, with a warning, a permit that a pool child dropped without releasing it, once it is collected', async () => {
    const lock = new Lock();
    await expect(branch((children) => void children.add(dropPermit, lock))).resolves.toEqual(['returned']);
    // Its thread lives on in the pool (here until it is idle for 10 s; in a busy pool, for good), and the lock with it.
    const guard = hangGuard(4000);
    (await lock.acquire({ token: guard.token })).release();
    guard.done();
  });

  it('releases the lock a dying thread held, and never gives it to a waiter that died', async () => {
    const lock = new Lock();
    const holder = await spawn(Doomed);
    await expect(holder.holdThenDie(lock)).resolves.toBe('held');
    const guard = hangGuard();
    const permit = await lock.acquire({ token: guard.token });
    guard.done();

    const waiter = await spawn(Doomed);
    await expect(waiter.waitThenDie(lock)).rejects.toBeInstanceOf(MonitorClosedError);
    permit.release();
    const again = hangGuard();
    (await lock.acquire({ token: again.token })).release();
    again.done();
  });

  describe.each([
    ['on one thread', false],
    ['with the waiting monitor on another thread', true],
  ])('a deadlock through a lock %s', (_where, remote) => {
    it('rejects the call that closes the cycle with a DeadlockError naming it, and both sides finish', async () => {
      const taker = remote ? await spawn(LockTaker) : new LockTaker();
      const holder = new LockHolder();
      try {
        const lock = new Lock();
        const gate = new Lock();
        const free = new Lock();
        const closed = await gate.acquire();
        // The holder takes the lock and waits at the gate; the taker waits for the lock.
        const holding = holder.holdThenPing(lock, gate, taker);
        await untilDumpShows(new RegExp(`${labelOf(holder)} on main: held by holdThenPing .*\\n  holdThenPing waits for Lock#`));
        const taking = taker.take(lock, free);
        await untilDumpShows(new RegExp(`it is held by ${labelOf(holder)}\\.holdThenPing`));
        // Now the holder calls the taker, whose monitor is held by a turn waiting for the holder's lock.
        closed.release();
        await holding;
        await expect(taking).resolves.toBe(true);
        const failure = await holder.failure();
        expect(failure).toMatch(/^deadlock: /);
        for (const name of [/Lock#\d+/, /LockHolder#\d+\.holdThenPing/, /LockTaker#\d+\.take/]) expect(failure).toMatch(name);
      } finally {
        if (remote) await close(taker);
      }
    });

    it('rejects a waiting acquire that closes the cycle with a DeadlockError, and both sides finish', async () => {
      const taker = remote ? await spawn(LockTaker) : new LockTaker();
      const holder = new LockHolder();
      try {
        const lock = new Lock();
        const gate = new Lock();
        const free = new Lock();
        const closed = await gate.acquire();
        // The taker holds its monitor, waiting at the gate; the holder takes the lock and calls the taker.
        const taking = taker.take(lock, gate);
        await untilDumpShows(new RegExp(`${labelOf(taker)} on .*: held by take .*\\n  take waits for Lock#`));
        const holding = holder.holdThenPing(lock, free, taker);
        await untilDumpShows(new RegExp(`${labelOf(taker)} on [^\\n]*\\n(  .*\\n)*  queued: ping`));
        // Now the taker wants the lock, held by a turn waiting for the taker's monitor.
        closed.release();
        await expect(taking).resolves.toBe(false);
        await holding;
        expect(await holder.failure()).toBe('');
        const failure = await taker.failure();
        expect(failure).toMatch(/^deadlock: /);
        for (const name of [/Lock#\d+\.acquire/, /LockHolder#\d+\.holdThenPing/, /LockTaker#\d+\.take/]) expect(failure).toMatch(name);
      } finally {
        if (remote) await close(taker);
      }
    });
  });
});

describe('dumpMonitors and locks', () => {
  it('shows a waiting acquire, how long it has waited and who holds the lock', async () => {
    const lock = new Lock();
    const gate = new Lock();
    const closed = await gate.acquire();
    const holder = new LockHolder();
    const holding = holder.holdUntil(lock, gate);
    await settle();
    const waiting = lock.acquire();
    await settle();
    const text = String(await dumpMonitors());
    expect(text).toMatch(/ {2}acquire waits for the lock: Lock#\d+\.acquire\(\) has waited \d+\.\d s; it is held by LockHolder#\d+\.holdUntil \(main\)/);
    // The gate's waiter is the holder's turn; its holder is plain code.
    expect(text).toMatch(/it is held by code outside any monitor turn \(main\)/);
    closed.release();
    await holding;
    (await waiting).release();
  });
});
