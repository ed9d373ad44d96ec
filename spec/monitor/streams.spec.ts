import { firstValueFrom, isObservable, lastValueFrom, take, toArray } from 'rxjs';
import { close, DefinitionError, MonitorClosedError, ShareabilityError, shutdown, spawn } from '../../lib';
import { Ticker } from '../fixtures/streams';

jest.setTimeout(30_000);
afterAll(() => shutdown());

/** Waits until `check` holds, polling; fails after 5 s (a hang guard, not a timing assertion). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const places = [
  ['on this thread', async () => ({ ticker: new Ticker(), done: async () => undefined })],
  [
    'on another thread',
    async () => {
      const ticker = await spawn(Ticker);
      return { ticker, done: () => close(ticker) };
    },
  ],
] as const;

describe.each(places)('a stream method of a monitor %s', (_place, make) => {
  let ticker: Ticker;
  let done: () => Promise<void>;
  beforeEach(async () => {
    ({ ticker, done } = await make());
  });
  afterEach(() => done());

  it('returns an Observable at once and runs the method only when subscribed', async () => {
    const ticks = ticker.ticks(3, 1);
    expect(isObservable(ticks)).toBe(true);
    await expect(ticker.subscriptions()).resolves.toBe(0);
    await expect(lastValueFrom(ticks.pipe(toArray()))).resolves.toEqual([0, 1, 2]);
    await expect(lastValueFrom(ticks.pipe(toArray()))).resolves.toEqual([0, 1, 2]);
    await expect(ticker.subscriptions()).resolves.toBe(2);
  });

  it('delivers values in order, then the error with its class and message', async () => {
    const seen: number[] = [];
    const failure = await new Promise<unknown>((resolve) => ticker.failing().subscribe({ next: (value) => seen.push(value), error: resolve, complete: () => resolve('completed') }));
    expect(seen).toEqual([1, 2]);
    expect(failure).toBeInstanceOf(RangeError);
    expect((failure as Error).message).toBe('the ticker broke');
  });

  it('runs the producer teardown on its thread when the subscriber unsubscribes', async () => {
    await expect(firstValueFrom(ticker.forever().pipe(take(3), toArray()))).resolves.toEqual([0, 1, 2]);
    await eventually(async () => (await ticker.teardowns()) === 1);
  });

  it('does not hold the monitor while the stream runs', async () => {
    const subscription = ticker.forever().subscribe();
    try {
      await expect(ticker.teardowns()).resolves.toBe(0);
    } finally {
      subscription.unsubscribe();
    }
    await eventually(async () => (await ticker.teardowns()) === 1);
  });

  it('ends the stream with a ShareabilityError at a value that may not leave the monitor', async () => {
    const seen: unknown[] = [];
    const failure = await new Promise<unknown>((resolve) => ticker.leaky().subscribe({ next: (value) => seen.push(value), error: resolve }));
    expect(seen).toEqual([[1]]);
    expect(failure).toBeInstanceOf(ShareabilityError);
    expect((failure as Error).message).toContain('Ticker.leaky');
  });

  it('refuses a stream method that returns something other than an Observable', async () => {
    const failure = await new Promise<unknown>((resolve) => ticker.broken().subscribe({ error: resolve }));
    expect(failure).toBeInstanceOf(DefinitionError);
    expect(failure).toMatchObject({ code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE' });
    expect((failure as Error).message).toBe(
      'Ticker.broken is a stream method (declared without async), but it returned a number, not an Observable; return an Observable, or declare the method async to return a promise',
    );
  });
});

describe('a stream method of a monitor on this thread', () => {
  // On another thread, a synchronous producer has run to its end before the unsubscribe arrives.
  it('stops a synchronous producer as soon as the subscriber has enough', async () => {
    const ticker = new Ticker();
    await expect(lastValueFrom(ticker.counting().pipe(take(3), toArray()))).resolves.toEqual([0, 1, 2]);
    await expect(ticker.emitted()).resolves.toBe(3);
    await expect(ticker.teardowns()).resolves.toBe(1);
  });
});

describe('a stream whose values cannot be revived by the subscriber', () => {
  it('errors there and stops the producer on its thread', async () => {
    const ticker = await spawn(Ticker);
    try {
      const failure = await new Promise<unknown>((resolve) => ticker.unloadable().subscribe({ error: resolve, complete: () => resolve('completed') }));
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBe('completed');
      await eventually(async () => (await ticker.teardowns()) === 1);
      const emitted = await ticker.emitted();
      await new Promise((resolve) => setTimeout(resolve, 30));
      await expect(ticker.emitted()).resolves.toBe(emitted);
    } finally {
      await close(ticker);
    }
  });
});

describe('a stream from a thread that ends', () => {
  it('errors with MonitorClosedError', async () => {
    const ticker = await spawn(Ticker);
    const failure = new Promise<unknown>((resolve) => ticker.forever().subscribe({ error: resolve }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await close(ticker);
    await expect(failure).resolves.toBeInstanceOf(MonitorClosedError);
  });
});
