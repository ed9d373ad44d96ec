import { close, configure, DeadlockError, DefinitionError, monitorEvents, shutdown, spawn, type MonitorEvent } from '../../lib';
import { ChainHop, Hop } from '../fixtures/deadlocks';

jest.setTimeout(30_000);
afterAll(() => shutdown());

/** Runs calls at once; exactly one must reject, with a DeadlockError, and the rest complete. */
async function exactlyOneDeadlock(calls: readonly Promise<unknown>[]): Promise<{ readonly error: DeadlockError; readonly values: unknown[] }> {
  const outcomes = await Promise.allSettled(calls);
  const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  expect(rejected).toHaveLength(1);
  const error = (rejected[0] as PromiseRejectedResult).reason as DeadlockError;
  expect(error).toBeInstanceOf(DeadlockError);
  expect(error.code).toBe('ERR_DEADLOCK');
  const values = outcomes.filter((outcome): outcome is PromiseFulfilledResult<unknown> => outcome.status === 'fulfilled').map((outcome) => outcome.value);
  return { error, values };
}

const hop = (...route: Hop[]): readonly Hop[] => Object.freeze(route);

describe('deadlock detection', () => {
  describe('on one thread', () => {
    it('breaks a lock-order inversion: one call rejects, the other completes', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      const { error, values } = await exactlyOneDeadlock([a.visit(hop(b), 20), b.visit(hop(a), 20)]);
      // b queued behind a last, so its call into a is the one rejected.
      expect(values).toEqual([['A', 'B']]);
      expect(error.cycle).toEqual([
        { monitor: String(a).slice(9, -1), method: 'visit', thread: 'main', waitsFor: String(b).slice(9, -1) },
        { monitor: String(b).slice(9, -1), method: 'visit', thread: 'main', waitsFor: String(a).slice(9, -1) },
      ]);
      expect(error.message).toMatch(
        /^deadlock: Hop#(\d+)\.visit \(main\) waits for Hop#(\d+), held by Hop#\2\.visit \(main\), which waits for Hop#\1\. The call Hop#\1\.visit \(called by Hop#\2\.visit\) was rejected/,
      );
      // Both monitors stay usable.
      await expect(Promise.all([a.name(), b.name()])).resolves.toEqual(['A', 'B']);
    });

    it('breaks chains that cross while their holders wait on plain timers', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      const { error } = await exactlyOneDeadlock([a.visitAfterTimer(hop(b), 20), b.visitAfterTimer(hop(a), 40)]);
      expect(error.cycle.map((step) => step.method)).toEqual(['visitAfterTimer', 'visitAfterTimer']);
    });

    it('rejects a monitor calling itself through another, naming both', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      const failure = (await a.visit(hop(b, a), 0).catch((error: unknown) => error)) as DeadlockError;
      expect(failure).toBeInstanceOf(DeadlockError);
      expect(failure.cycle.map((step) => [step.monitor, step.waitsFor])).toEqual([
        [String(a).slice(9, -1), String(b).slice(9, -1)],
        [String(b).slice(9, -1), String(a).slice(9, -1)],
      ]);
      // The middle turn can catch it and go on.
      await expect(a.visitOrReport(hop(b, a), 0)).resolves.toEqual(['A', 'error:DeadlockError']);
    });

    it('rejects a monitor calling itself through its own reference', async () => {
      const a = new Hop('A');
      const failure = (await a.visit(hop(a), 0).catch((error: unknown) => error)) as DeadlockError;
      expect(failure).toBeInstanceOf(DeadlockError);
      expect(failure.message).toMatch(/^deadlock: Hop#\d+\.visit \(main\) waits for Hop#\d+, which it holds itself\./);
    });

    it('sees the calls a turn makes from a branch it runs', async () => {
      const a = new Hop('A');
      await expect(a.nameFromABranch(a)).rejects.toBeInstanceOf(DeadlockError);
      const b = new Hop('B');
      await expect(a.nameFromABranch(b)).resolves.toBe('B');
    });

    it('finds a cycle closed after several awaits in the turn', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      const c = new Hop('C');
      // a holds, then calls c (free), then b; b holds and calls a.
      const { values } = await exactlyOneDeadlock([a.visit(hop(c, b), 30), b.visit(hop(a), 10)]);
      expect(values).toHaveLength(1);
    });
  });

  describe('across threads', () => {
    it('breaks a lock-order inversion between a monitor here and one on another thread', async () => {
      const a = new Hop('A');
      const b = await spawn(Hop, 'B');
      try {
        const { error } = await exactlyOneDeadlock([a.visit(hop(b), 30), b.visit(hop(a), 30)]);
        expect(error.cycle.map((step) => step.thread).sort()).toEqual([expect.stringMatching(/^actor Hop \(thread \d+\)$/), 'main']);
        expect(error.message).toMatch(/waits for Hop#\d+, held by Hop#\d+\.visit \((main|actor Hop \(thread \d+\))\), which waits for Hop#\d+\./);
      } finally {
        await close(b);
      }
    });

    it('breaks a three-monitor cycle over three threads', async () => {
      const [a, b, c] = await Promise.all([spawn(Hop, 'A'), spawn(Hop, 'B'), spawn(Hop, 'C')]);
      try {
        const { error, values } = await exactlyOneDeadlock([a.visit(hop(b), 40), b.visit(hop(c), 40), c.visit(hop(a), 40)]);
        expect(values).toHaveLength(2);
        expect(error.cycle).toHaveLength(3);
        expect(new Set(error.cycle.map((step) => step.thread)).size).toBe(3);
      } finally {
        await Promise.all([close(a), close(b), close(c)]);
      }
    });

    it('rejects a monitor calling itself through one on another thread', async () => {
      const a = new Hop('A');
      const b = await spawn(Hop, 'B');
      try {
        const failure = (await a.visit(hop(b, a), 0).catch((error: unknown) => error)) as DeadlockError;
        expect(failure).toBeInstanceOf(DeadlockError);
        expect(failure.cycle.map((step) => step.thread)).toEqual(['main', expect.stringMatching(/^actor Hop \(thread \d+\)$/)]);
      } finally {
        await close(b);
      }
    });
  });

  describe('no false alarm', () => {
    it('lets a turn that races a call against a sleep win by the timer', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      // b's visit comes back into a, which is held by the race: only the timer can end it.
      await expect(a.race(hop(b, a), 30)).resolves.toBe('timer');
      await expect(a.visit(hop(b), 0)).resolves.toEqual(['A', 'B']);
    });

    it('lets a race across threads win by the timer', async () => {
      const a = new Hop('A');
      const b = await spawn(Hop, 'B');
      try {
        await expect(a.race(hop(b, a), 50)).resolves.toBe('timer');
        await expect(b.visit(hop(a), 0)).resolves.toEqual(['B', 'A']);
      } finally {
        await close(b);
      }
    });

    it('lets calls wait behind a slow holder, timed outside the framework', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      const remote = await spawn(Hop, 'R');
      try {
        const results = await Promise.all([a.holdWithTimer(100), a.name(), b.visit(hop(a), 0), remote.visit(hop(a), 0), a.visit(hop(b), 0)]);
        expect(results).toEqual(['A', 'A', ['B', 'A'], ['R', 'A'], ['A', 'B']]);
      } finally {
        await close(remote);
      }
    });

    it('lets calls wait behind a sleeping holder that then calls on', async () => {
      const a = new Hop('A');
      const b = new Hop('B');
      await expect(Promise.all([a.visit(hop(b), 50), b.visit(hop(), 0), a.name()])).resolves.toEqual([['A', 'B'], ['B'], 'A']);
    });
  });

  describe("reentrant: 'chain'", () => {
    it('lets a chain come back into the monitor it holds, on one thread', async () => {
      const p = new ChainHop('P');
      const q = new ChainHop('Q');
      await expect(p.visit(Object.freeze([q, p]), 0)).resolves.toEqual(['P', 'Q', 'P']);
      await expect(p.entries()).resolves.toBe(2);
    });

    it('lets a chain come back across threads', async () => {
      const p = new ChainHop('P');
      const q = await spawn(ChainHop, 'Q');
      try {
        await expect(p.visit(Object.freeze([q, p, q]), 0)).resolves.toEqual(['P', 'Q', 'P', 'Q']);
      } finally {
        await close(q);
      }
    });

    it('lets a call from a branch inside the holding turn enter', async () => {
      const p = new ChainHop('P');
      await expect(p.visitFromABranch(p)).resolves.toEqual(['P']);
    });

    it('still queues a call from another chain', async () => {
      const p = new ChainHop('P');
      const q = new ChainHop('Q');
      const order: string[] = [];
      await Promise.all([p.visit(Object.freeze([]), 30).then(() => order.push('p')), q.visit(Object.freeze([p]), 0).then(() => order.push('q'))]);
      // q's call into p had to wait for p's own turn.
      expect(order).toEqual(['p', 'q']);
    });
  });

  describe('events', () => {
    it('reports queued calls and a broken deadlock, and stops on unsubscribe', async () => {
      const events: MonitorEvent[] = [];
      const subscription = monitorEvents().subscribe((event) => events.push(event));
      const a = new Hop('A');
      const b = new Hop('B');
      await Promise.allSettled([a.visit(hop(b), 20), b.visit(hop(a), 20)]);
      subscription.unsubscribe();
      const deadlock = events.find((event) => event.kind === 'deadlock');
      expect(deadlock).toMatchObject({ kind: 'deadlock', method: 'visit', thread: 'main' });
      expect((deadlock as { error: Error }).error).toBeInstanceOf(DeadlockError);
      expect(events.filter((event) => event.kind === 'queued')).toHaveLength(2);
      expect(events.filter((event) => event.kind === 'turn').length).toBeGreaterThanOrEqual(3);
      const seen = events.length;
      await a.name();
      expect(events).toHaveLength(seen);
    });
  });

  it('refuses a deadlockDetection option that is not true or false', () => {
    expect(() => configure({ deadlockDetection: 'yes' as unknown as boolean })).toThrow(DefinitionError);
    expect(() => configure({ deadlockDetection: 'yes' as unknown as boolean })).toThrow(/deadlockDetection.*true or false/);
  });
});
