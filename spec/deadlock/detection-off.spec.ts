import { branch, CancellationSource, CancelledError, close, configure, shutdown, spawn } from '../../lib';
import { ChainHop, Hop } from '../fixtures/deadlocks';

/**
 * With `configure({ deadlockDetection: false })` (this file's runtime only: jest gives each spec
 * file its own), monitors work as before, without the wait tracking.
 */
configure({ deadlockDetection: false });
jest.setTimeout(30_000);
afterAll(() => shutdown());

describe('deadlockDetection: false', () => {
  it('still runs calls on other threads under the caller’s token', async () => {
    const b = await spawn(Hop, 'B');
    try {
      await expect(b.visit(Object.freeze([]), 0)).resolves.toEqual(['B']);
      const source = new CancellationSource();
      const napping = branch(
        (children) => {
          children.addLocal(() => b.visit(Object.freeze([]), 10_000));
        },
        { token: source.token },
      );
      setTimeout(() => source.cancel('wake up'), 20);
      await expect(napping).rejects.toBeInstanceOf(CancelledError);
    } finally {
      await close(b);
    }
  });

  it('still lets a chain re-enter a reentrant monitor', async () => {
    const p = new ChainHop('P');
    const q = new ChainHop('Q');
    await expect(p.visit(Object.freeze([q, p]), 0)).resolves.toEqual(['P', 'Q', 'P']);
  });

  it('no longer detects deadlocks: a monitor calling itself stays pending', async () => {
    const a = new Hop('A');
    let settled = false;
    a.visit(Object.freeze([a]), 0).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
  });
});
