import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { branch, shutdown, sleep, type ChildResult } from '../../lib';
import { slowSquare } from '../fixtures/tasks';

jest.setTimeout(30_000);
afterAll(() => shutdown());

describe('children.results()', () => {
  it('emits each child as it finishes, in finish order, then completes when the branch is over', async () => {
    let stream: Observable<ChildResult> | undefined;
    const values = await branch((children) => {
      children.addLocal(async function slow() {
        await sleep(60);
        return 'slow';
      });
      children.addLocal(async function fast() {
        await sleep(5);
        return 'fast';
      });
      stream = children.results();
    });
    expect(values).toEqual(['slow', 'fast']);
    // Subscribed after the branch: the finished children are replayed, then it completes.
    await expect(lastValueFrom((stream as Observable<ChildResult>).pipe(toArray()))).resolves.toEqual([
      { index: 1, name: 'fast', value: 'fast' },
      { index: 0, name: 'slow', value: 'slow' },
    ]);
  });

  it('reports pool children as they finish, live, for progress', async () => {
    const seen: ChildResult[] = [];
    let completed = false;
    const squares = await branch((children) => {
      children.add(slowSquare, 3, 20);
      children.add(slowSquare, 2, 1);
      children.results().subscribe({ next: (result) => seen.push(result), complete: () => (completed = true) });
    });
    expect(squares).toEqual([9, 4]);
    // Which finishes first depends on how fast the threads start; each arrives once, with its index.
    expect([...seen].sort((a, b) => a.index - b.index)).toEqual([
      { index: 0, name: 'slowSquare', value: 9 },
      { index: 1, name: 'slowSquare', value: 4 },
    ]);
    expect(completed).toBe(true);
  });

  it('gives each result once to a subscription made while results are delivered', async () => {
    const seen: number[] = [];
    await branch((children) => {
      children.addLocal(async () => 1);
      children.addLocal(async () => {
        await sleep(20);
        return 2;
      });
      let subscribed = false;
      children.results().subscribe(() => {
        if (subscribed) return;
        subscribed = true;
        children.results().subscribe((result) => seen.push(result.index));
      });
    });
    expect(seen).toEqual([0, 1]);
  });

  it('leaves failures out and still completes when the branch fails', async () => {
    const seen: string[] = [];
    let completed = false;
    await expect(
      branch((children) => {
        children.results().subscribe({ next: (result) => seen.push(result.name), complete: () => (completed = true) });
        children.addLocal(async function fine() {
          return 1;
        });
        children.addLocal(async function broken() {
          await sleep(5);
          throw new RangeError('no');
        });
      }),
    ).rejects.toThrow(RangeError);
    expect(seen).toEqual(['fine']);
    expect(completed).toBe(true);
  });
});
