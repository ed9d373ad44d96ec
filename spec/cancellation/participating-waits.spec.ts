import { branch, CancellationSource, CancellationToken, CancelledError, close, configure, currentToken, Monitor, monitorMethod, shutdown, sleep, spawn } from '../../lib';
import { Tally } from '../fixtures/monitors';
import { latch } from '../helpers/latch';
import { warmPool } from '../helpers/warm-pool';
import { nestedSleepers, slowSquare, stubborn } from '../fixtures/tasks';

jest.setTimeout(30_000);
afterAll(() => shutdown());

/** Opened by a test to end `Desk.hold`. */
let gate = latch();

@Monitor
class Desk {
  readonly #served: string[] = [];

  @monitorMethod async hold(): Promise<void> {
    await gate.promise;
  }

  @monitorMethod async serve(who: string): Promise<string> {
    this.#served.push(who);
    return who;
  }

  @monitorMethod async served(): Promise<readonly string[]> {
    return Object.freeze([...this.#served]);
  }

  @monitorMethod async tokenSeen(): Promise<boolean> {
    return !currentToken().cancelled && currentToken() !== CancellationToken.none;
  }
}

describe('participating waits', () => {
  it('ends a sleep at once with CancelledError carrying the reason', async () => {
    const source = new CancellationSource();
    const started = Date.now();
    const sleeping = sleep(20_000, { token: source.token });
    source.cancel('wake up');
    const error = await sleeping.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe('wake up');
    expect(Date.now() - started).toBeLessThan(5_000); // hang guard
  });

  it('ends a sleep on an aborted signal, and refuses to start on a cancelled token', async () => {
    await expect(sleep(20_000, { signal: AbortSignal.abort('gone') })).rejects.toThrow(CancelledError);
    const source = new CancellationSource();
    source.cancel();
    await expect(sleep(1, { token: source.token })).rejects.toThrow(CancelledError);
  });

  it('removes a queued monitor call when its token is cancelled; it never runs', async () => {
    gate = latch();
    const desk = new Desk();
    const holding = desk.hold();
    const source = new CancellationSource();
    const queued = branch((children) => {
      children.addLocal(() => desk.serve('cancelled caller'));
    }, { token: source.token });
    const after = desk.serve('next caller');
    source.cancel('no longer needed');
    await expect(queued).rejects.toThrow(CancelledError);
    gate.open();
    await holding;
    await after;
    await expect(desk.served()).resolves.toEqual(['next caller']);
  });

  it('removes a queued call to a monitor on another thread when the caller token is cancelled', async () => {
    const tally = await spawn(Tally);
    try {
      const holding = tally.hold(500);
      const source = new CancellationSource();
      const queued = branch((children) => void children.addLocal(() => tally.add(1, 'cancelled caller')), { token: source.token });
      setTimeout(() => source.cancel('caller gave up'), 50);
      const error = await queued.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CancelledError);
      await holding;
      await expect(tally.log()).resolves.toEqual([]);
      await expect(tally.value()).resolves.toBe(0);
    } finally {
      await close(tally);
    }
  });

  it('gives a running monitor call the caller token', async () => {
    const desk = new Desk();
    const [seen] = await branch<boolean>((children) => void children.addLocal(() => desk.tokenSeen()));
    expect(seen).toBe(true);
    await expect(desk.tokenSeen()).resolves.toBe(false); // outside any branch: the none token
  });

  it('gives the branch body and its local children tokens linked to the branch', async () => {
    const source = new CancellationSource();
    let bodyToken: CancellationToken | undefined;
    let childToken: CancellationToken | undefined;
    const run = branch(
      (children) => {
        bodyToken = currentToken();
        children.addLocal(async () => {
          childToken = currentToken();
          await sleep(20_000);
        });
      },
      { token: source.token },
    );
    expect(bodyToken?.cancelled).toBe(false);
    expect(childToken?.cancelled).toBe(false);
    source.cancel('stop');
    await expect(run).rejects.toThrow(CancelledError);
    expect(bodyToken?.cancelled).toBe(true);
    expect(childToken?.cancelled).toBe(true);
    expect(childToken).not.toBe(source.token);
  });

  it('cancels nested branches on other threads, innermost first', async () => {
    // Warm threads first: a child cancelled before it starts never runs, and this one must run.
    await warmPool(2);
    const source = new CancellationSource();
    let outerChild: Promise<string> | undefined;
    const run = branch<string>((children) => void (outerChild = children.add(nestedSleepers).result), { token: source.token });
    setTimeout(() => source.cancel('stop all'), 1500);
    const error = await run.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe('stop all');
    // The outer child saw its own nested branch end cancelled before it finished itself.
    await expect(outerChild).resolves.toBe('inner CancelledError');
  });

  it('ends the thread of a child that ignores cancellation after graceMs; an unrelated branch is not harmed', async () => {
    configure({ threads: 2 });
    const unrelated = branch<number>((children) => {
      for (let i = 1; i <= 4; i++) children.add(slowSquare, i, 300);
    });
    const source = new CancellationSource();
    const started = Date.now();
    const stubbornRun = branch((children) => void children.add(stubborn, 20_000), { token: source.token, graceMs: 300 });
    setTimeout(() => source.cancel('give up'), 100);
    await expect(stubbornRun).rejects.toThrow(CancelledError);
    expect(Date.now() - started).toBeLessThan(10_000); // hang guard: settled after the grace, not after 20 s
    await expect(unrelated).resolves.toEqual([1, 4, 9, 16]);
  });
});
