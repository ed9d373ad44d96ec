import { IN_FLIGHT_PER_THREAD, NEW_THREAD, PlacedChild, PlacedThread, Placement, THREAD_CAP_FACTOR } from '../../lib/threads/placement';

/**
 * Placement on its own, without workers: where each child goes and when, as the pool's threads
 * start, wait and end. The pool (threads/pool.ts) acts on these answers.
 */

class Child extends PlacedChild {
  constructor(
    readonly label: string,
    parent?: Child,
  ) {
    super(parent);
  }
}

/** A placement over a simulated pool: `claimed` holds the children sent ahead that their thread already started. */
function simulate(limit: number, inFlightPerThread = 4) {
  const claimed = new Set<PlacedChild>();
  const placement = new Placement(limit, (child) => !claimed.has(child), inFlightPerThread);
  const threads: PlacedThread[] = [];
  /** Places every child that can go now; returns `label@thread` (with `+ahead` for one sent ahead). */
  const dispatch = (): string[] => {
    const placed: string[] = [];
    for (let next = placement.next(); next !== undefined; next = placement.next()) {
      let thread = next.thread;
      if (thread === NEW_THREAD) {
        thread = new PlacedThread();
        threads.push(thread);
        placement.addThread(thread);
      }
      placement.assign(next.child, thread, next.ahead);
      placed.push(`${(next.child as Child).label}@${threads.indexOf(thread)}${next.ahead ? '+ahead' : ''}`);
    }
    return placed;
  };
  return { placement, threads, claimed, dispatch };
}

describe('placement', () => {
  it('sends children in queue order: to idle threads, then new ones up to the limit, then ahead, evenly; the rest wait', () => {
    const { placement, dispatch } = simulate(2);
    const children = 'abcdefghij'.split('').map((label) => new Child(label));
    children.forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['a@0', 'b@1', 'c@0+ahead', 'd@1+ahead', 'e@0+ahead', 'f@1+ahead', 'g@0+ahead', 'h@1+ahead']);
    expect(placement.queued).toBe(2);

    // a ends: c, first ahead behind it, has started in its place, and the thread takes i ahead.
    placement.leave(children[0] as Child);
    expect((children[2] as Child).ahead).toBe(false);
    expect(dispatch()).toEqual(['i@0+ahead']);
    placement.leave(children[1] as Child);
    expect(dispatch()).toEqual(['j@1+ahead']);
    expect(placement.queued).toBe(0);
  });

  it(`by default holds ${IN_FLIGHT_PER_THREAD} children per thread, so a thread rarely empties before its refill arrives`, () => {
    const { placement, dispatch, threads } = simulate(2, IN_FLIGHT_PER_THREAD);
    expect(IN_FLIGHT_PER_THREAD).toBeGreaterThanOrEqual(16);
    for (let index = 0; index < 3 * IN_FLIGHT_PER_THREAD; index++) placement.add(new Child(String(index)));
    expect(dispatch()).toHaveLength(2 * IN_FLIGHT_PER_THREAD);
    expect(threads.map((thread) => [thread.children.size, thread.ahead.length])).toEqual([
      [IN_FLIGHT_PER_THREAD, IN_FLIGHT_PER_THREAD - 1],
      [IN_FLIGHT_PER_THREAD, IN_FLIGHT_PER_THREAD - 1],
    ]);
    expect(placement.queued).toBe(IN_FLIGHT_PER_THREAD);
  });

  it('gives one child at a time to the thread that fell idle last', () => {
    const { placement, dispatch } = simulate(3);
    const first = ['a', 'b', 'c'].map((label) => new Child(label));
    first.forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['a@0', 'b@1', 'c@2']);
    placement.leave(first[1] as Child);
    placement.leave(first[0] as Child);
    placement.leave(first[2] as Child);
    const labels: string[] = [];
    for (const label of ['d', 'e', 'f']) {
      const child = new Child(label);
      placement.add(child);
      labels.push(...dispatch());
      placement.leave(child);
    }
    expect(labels).toEqual(['d@2', 'e@2', 'f@2']);
  });

  it('prefers an idle thread to sending a child ahead', () => {
    const { placement, dispatch } = simulate(2);
    const [a, b, c] = ['a', 'b', 'c'].map((label) => new Child(label)) as [Child, Child, Child];
    placement.add(a);
    placement.add(b);
    expect(dispatch()).toEqual(['a@0', 'b@1']);
    placement.leave(b);
    placement.add(c);
    expect(dispatch()).toEqual(['c@1']);
  });

  it('takes back what waits ahead of a child that starts to wait, and queues it again first', () => {
    const { placement, dispatch } = simulate(1);
    const [a, b, c] = ['a', 'b', 'c'].map((label) => new Child(label)) as [Child, Child, Child];
    [a, b, c].forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['a@0', 'b@0+ahead', 'c@0+ahead']);
    // a waits on a channel: b must not wait behind it (it may be what a waits for), and a's
    // thread no longer counts against the limit, so b starts on a new thread, before c.
    placement.blocked(a, 1);
    expect(dispatch()).toEqual(['b@1', 'c@1+ahead']);
    expect(b.ahead).toBe(false);
  });

  it('counts a child sent ahead as started when its thread claimed it before it could be taken back', () => {
    const { placement, dispatch, claimed, threads } = simulate(1);
    const [a, b] = ['a', 'b'].map((label) => new Child(label)) as [Child, Child];
    placement.add(a);
    placement.add(b);
    dispatch();
    claimed.add(b);
    placement.blocked(a, 1);
    expect(b.ahead).toBe(false);
    expect(b.thread).toBe(threads[0]);
    expect(placement.cancel(b)).toBe(false);
  });

  it('gives a child waiting ahead of a long one to a thread that fell idle, when nothing else is queued', () => {
    const { placement, dispatch } = simulate(2);
    const [long, short, next] = ['long', 'short', 'next'].map((label) => new Child(label)) as [Child, Child, Child];
    [long, short, next].forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['long@0', 'short@1', 'next@0+ahead']);
    placement.leave(short);
    expect(dispatch()).toEqual(['next@1']);
  });

  it('sends nothing to a thread that serves monitors, and takes back what waited ahead on it', () => {
    const { placement, dispatch, threads } = simulate(1);
    const [a, b] = ['a', 'b'].map((label) => new Child(label)) as [Child, Child];
    placement.add(a);
    placement.add(b);
    expect(dispatch()).toEqual(['a@0', 'b@0+ahead']);
    placement.setHosting(threads[0] as PlacedThread, true);
    expect(b.thread).toBeUndefined();
    // The hosting thread does not count against the limit: b gets a thread of its own.
    expect(dispatch()).toEqual(['b@1']);
  });

  it('at the limit, runs a queued nested child on the thread of its waiting parent, passing unrelated children', () => {
    const { placement, dispatch } = simulate(1);
    const parent = new Child('parent');
    const [first, second] = ['first', 'second'].map((label) => new Child(label)) as [Child, Child];
    [parent, first, second].forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['parent@0', 'first@0+ahead', 'second@0+ahead']);
    // The parent adds a child and waits for it: its thread no longer counts against the limit
    // (first starts on a new thread), and the nested child runs on the parent's own thread.
    placement.add(new Child('nested', parent));
    expect(dispatch()).toEqual(['first@1', 'nested@0', 'second@1+ahead']);
    expect(THREAD_CAP_FACTOR).toBe(4);
  });

  it('cancels a queued child from anywhere in the queue, keeping the others in order', () => {
    const { placement, dispatch } = simulate(1);
    const children = 'abcdefgh'.split('').map((label) => new Child(label));
    children.forEach((child) => placement.add(child));
    expect(dispatch()).toEqual(['a@0', 'b@0+ahead', 'c@0+ahead', 'd@0+ahead']);
    expect(placement.cancel(children[5] as Child)).toBe(true);
    placement.leave(children[5] as Child);
    placement.leave(children[0] as Child);
    expect(dispatch()).toEqual(['e@0+ahead']);
    placement.leave(children[1] as Child);
    expect(dispatch()).toEqual(['g@0+ahead']);
  });

  it('places 100,000 queued children in constant time each', () => {
    const { placement, dispatch, threads } = simulate(2);
    const children = Array.from({ length: 100_000 }, (_, index) => new Child(String(index)));
    children.forEach((child) => placement.add(child));
    let placed = dispatch().length;
    // Each ending child makes room for one more; a scan of the queue per ending would take minutes here.
    for (let index = 0; index < children.length; index++) {
      placement.leave(children[index] as Child);
      placed += dispatch().length;
    }
    expect(placed).toBe(100_000);
    expect(placement.queued).toBe(0);
    expect(threads.every((thread) => thread.children.size === 0)).toBe(true);
  });
});
