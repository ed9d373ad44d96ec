import { firstValueFrom, Subject, take, toArray, interval, takeUntil } from 'rxjs';
import { branch, CancellationSource, CancellationToken, CancelledError, isShareable, shutdown } from '../../lib';
import { warmPool } from '../helpers/warm-pool';
import { reasonSeenOnWorker, spinUntilCancelled, waitForToken } from '../fixtures/tasks';

jest.setTimeout(30_000);
beforeAll(() => warmPool(2));
afterAll(() => shutdown());

describe('CancellationToken', () => {
  it('starts live and is cancelled once, keeping the first reason', () => {
    const source = new CancellationSource();
    expect(source.token.cancelled).toBe(false);
    expect(source.token.reason).toBeUndefined();
    source.cancel('first');
    source.cancel('second');
    expect(source.token.cancelled).toBe(true);
    expect(source.token.reason).toBe('first');
  });

  it('throwIfCancelled throws a CancelledError carrying the reason as reason and cause', () => {
    const source = new CancellationSource();
    expect(() => source.token.throwIfCancelled()).not.toThrow();
    const why = new RangeError('quota');
    source.cancel(why);
    const error = (() => {
      try {
        source.token.throwIfCancelled();
      } catch (caught) {
        return caught as CancelledError;
      }
    })();
    expect(error).toBeInstanceOf(CancelledError);
    expect(error?.reason).toBe(why);
    expect(error?.cause).toBe(why);
  });

  it('runs onCancel callbacks once, at once if already cancelled, and unsubscribes', () => {
    const source = new CancellationSource();
    const seen: unknown[] = [];
    source.token.onCancel((reason) => seen.push(['a', reason]));
    const unsubscribe = source.token.onCancel((reason) => seen.push(['b', reason]));
    unsubscribe();
    source.cancel('stop');
    source.token.onCancel((reason) => seen.push(['late', reason]));
    expect(seen).toEqual([
      ['a', 'stop'],
      ['late', 'stop'],
    ]);
  });

  it('gives a real AbortSignal that aborts with the reason', () => {
    const source = new CancellationSource();
    const { signal } = source.token;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
    source.cancel('enough');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('enough');
  });

  it('comes from an AbortSignal, aborted already or later', () => {
    expect(CancellationToken.fromSignal(AbortSignal.abort('done')).reason).toBe('done');
    const controller = new AbortController();
    const token = CancellationToken.fromSignal(controller.signal);
    expect(token.cancelled).toBe(false);
    controller.abort('later');
    expect(token.cancelled).toBe(true);
    expect(token.reason).toBe('later');
  });

  it('has a none token that is never cancelled', () => {
    expect(CancellationToken.none.cancelled).toBe(false);
    expect(CancellationToken.none).toBe(CancellationToken.none);
    expect(() => CancellationToken.none.throwIfCancelled()).not.toThrow();
  });

  it('links a child source to its parent: the parent cancels the child, not the other way round', () => {
    const parent = new CancellationSource();
    const child = new CancellationSource(parent.token);
    const sibling = new CancellationSource(parent.token);
    sibling.cancel('only me');
    expect(parent.token.cancelled).toBe(false);
    parent.cancel('everyone');
    expect(child.token.reason).toBe('everyone');
    expect(sibling.token.reason).toBe('only me');
  });

  it("runs a linked token's callbacks within the parent's cancel, with the reason object it was given", () => {
    const parent = new CancellationSource();
    const child = new CancellationSource(parent.token);
    const grandchild = new CancellationSource(child.token);
    const heard: [string, unknown][] = [];
    child.token.onCancel((reason) => heard.push(['child', reason]));
    grandchild.token.onCancel((reason) => heard.push(['grandchild', reason]));
    const reason = new Error('shutting down');
    parent.cancel(reason);
    // Each callback in the order it was registered on its token: the grandchild's link to the child came first.
    expect(heard).toEqual([
      ['grandchild', reason],
      ['child', reason],
    ]);
    expect(heard.every(([, heardReason]) => heardReason === reason)).toBe(true);
    expect(grandchild.token.reason).toBe(reason);
  });

  it('is shareable', () => {
    expect(isShareable(new CancellationSource().token)).toBe(true);
    expect(isShareable(CancellationToken.none)).toBe(true);
  });

  describe('rxjs', () => {
    it('comes from an Observable: its first value is the reason', () => {
      const stop = new Subject<string>();
      const token = CancellationToken.fromObservable(stop);
      expect(token.cancelled).toBe(false);
      stop.next('clicked');
      stop.next('again');
      expect(token.reason).toBe('clicked');
      expect(stop.observed).toBe(false); // it unsubscribed
    });

    it('is an Observable that emits the reason once, then completes', async () => {
      const source = new CancellationSource();
      const emitted = firstValueFrom(source.token.asObservable().pipe(toArray()));
      source.cancel('bye');
      await expect(emitted).resolves.toEqual(['bye']);
    });

    it('stops a stream with takeUntil', async () => {
      const source = new CancellationSource();
      const ticks = firstValueFrom(interval(1).pipe(takeUntil(source.token.asObservable()), take(1000), toArray()));
      setTimeout(() => source.cancel(), 20);
      const values = await ticks;
      expect(values.length).toBeLessThan(1000);
    });
  });

  describe('across threads', () => {
    it('stops a tight CPU loop on another thread that reads token.cancelled', async () => {
      const source = new CancellationSource();
      const result = branch<number>((children) => void children.add(spinUntilCancelled), { token: source.token });
      setTimeout(() => source.cancel('enough spinning'), 200);
      const error = await result.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).reason).toBe('enough spinning');
    });

    it('delivers the reason to the other thread, class and message kept', async () => {
      const started = new Int32Array(new SharedArrayBuffer(4));
      const [seen] = await branch<unknown>(async (children) => {
        const child = children.add(reasonSeenOnWorker, started);
        while (Atomics.load(started, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        child.cancel(new RangeError('limit reached'));
      });
      expect(seen).toEqual({ name: 'RangeError', message: 'limit reached' });
    });

    it('is seen by a worker that busy-waits on a token passed as an argument', async () => {
      const source = new CancellationSource();
      const waiting = branch<unknown>((children) => void children.add(waitForToken, source.token));
      setTimeout(() => source.cancel('go'), 100);
      await expect(waiting).resolves.toEqual(['go']);
    });
  });
});

describe('CancellationSource', () => {
  it('is cancelled at once when made from a parent that already is', () => {
    const parent = new CancellationSource();
    parent.cancel('already');
    const child = new CancellationSource(parent.token);
    expect(child.token.cancelled).toBe(true);
    expect(child.token.reason).toBe('already');
  });
});

describe('linked tokens across threads', () => {
  it('read a cancel of any ancestor at once, without waiting for the threads between to pass it on', () => {
    const root = new CancellationSource();
    const middle = new CancellationSource(root.token);
    // A token as another thread revives it: its own memory, and its ancestors' (middle, then root).
    const own = new Int32Array(new SharedArrayBuffer(1032));
    const { memory: middleMemory, ancestors } = middle.token.shared;
    const revived = CancellationToken.make(own, 'elsewhere:1', false, [middleMemory as Int32Array, ...ancestors]);
    expect(revived.cancelled).toBe(false);
    root.cancel('from the top');
    expect(revived.cancelled).toBe(true); // no event-loop turn in between
    expect(revived.reason).toBe('from the top');
  });
});
