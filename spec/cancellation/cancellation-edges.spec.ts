import { setTimeout as wait } from 'node:timers/promises';
import { of } from 'rxjs';
import { branch, CancellationSource, CancellationToken, CancelledError, configure, currentToken, freeze, shutdown, sleep, TimeoutError } from '../../lib';
import { warmPool } from '../helpers/warm-pool';
import { busyParent, failLater, markRan, reasonSeenOnWorker } from '../fixtures/tasks';

jest.setTimeout(30_000);
beforeAll(() => warmPool(2));
afterAll(() => shutdown());

describe('cancellation at the edges', () => {
  it('does not count the body reacting to the cancel as a second failure', async () => {
    const attempt = branch(async (children) => {
      children.add(failLater, 'the real failure', 50);
      await sleep(20_000); // rejects with CancelledError once the child fails
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('the real failure');
  });

  it('treats the AbortError of a platform API given currentToken().signal as a cancellation', async () => {
    const source = new CancellationSource();
    const attempt = branch((children) => void children.addLocal(() => wait(20_000, undefined, { signal: currentToken().signal })), { token: source.token });
    setTimeout(() => source.cancel('stop waiting'), 50);
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe('stop waiting');
  });

  it('settles a branch whose local child ignores cancellation, after graceMs', async () => {
    const attempt = branch((children) => void children.addLocal(() => new Promise(() => {})), { timeoutMs: 100, graceMs: 100 });
    await expect(attempt).rejects.toThrow(TimeoutError);
  });

  it('never starts a child cancelled in the tick it was added', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const results = await branch<number>((children) => {
      children.add(markRan, flag).cancel('changed my mind');
    });
    expect(results).toEqual([undefined]);
    await sleep(100);
    expect(Atomics.load(flag, 0)).toBe(0);
  });

  it('delivers a plain reason to another thread frozen, so a task can return it', async () => {
    const started = new Int32Array(new SharedArrayBuffer(4));
    const [seen] = await branch<unknown>(async (children) => {
      const child = children.add(reasonSeenOnWorker, started);
      while (Atomics.load(started, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      child.cancel(freeze({ why: 'quota', left: 0 }));
    });
    expect(seen).toEqual({ why: 'quota', left: 0 });
  });

  it('comes from an Observable that emits while it is subscribed to', () => {
    expect(CancellationToken.fromObservable(of('at once')).reason).toBe('at once');
  });

  it('keeps a very long sleep waiting rather than ending it at once', async () => {
    const source = new CancellationSource();
    const sleeping = sleep(2 ** 31 + 10, { token: source.token });
    let resolved = false;
    void sleeping.then(() => (resolved = true), () => {});
    await sleep(50);
    expect(resolved).toBe(false);
    source.cancel('done');
    await expect(sleeping).rejects.toThrow(CancelledError);
  });
});

describe('cancellation through busy threads', () => {
  it('reaches a grandchild at once even while the thread of its parent is blocked', async () => {
    configure({ threads: 3 });
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const source = new CancellationSource();
    const run = branch((children) => void children.add(busyParent, 4000, flag), { token: source.token });
    while (Atomics.load(flag, 1) === 0) await sleep(10); // the grandchild is spinning now
    await sleep(200); // and its parent's thread is blocked, for 4 s
    source.cancel('stop');
    const deadline = Date.now() + 1000; // a generous guard: the parent's thread stays blocked for 4 s
    while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) await sleep(10);
    expect(Atomics.load(flag, 0)).toBe(1);
    await run.catch(() => {});
  });
});
