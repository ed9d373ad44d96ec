/**
 * The user's code that runs on other threads: a task, a @Monitor class and a @shareable class,
 * at the top level of a module with no other side effects (a worker loads this module to find
 * them), and the scenario that uses them. Copied into every scratch application: it imports only
 * 'safethread' and Node, so it is the same source in CommonJS and ESM applications, under either
 * decorator mode.
 */
import { threadId } from 'node:worker_threads';
import { CancellationSource, CancellationToken, Monitor, branch, close, currentToken, monitorMethod, shareable, spawn, task } from 'safethread';

@shareable
export class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

@Monitor
export class Counter {
  #count: number;

  constructor(start: number) {
    this.#count = start;
  }

  @monitorMethod async add(n: number): Promise<number> {
    this.#count += n;
    return this.#count;
  }

  @monitorMethod async thread(): Promise<number> {
    return threadId;
  }
}

export const square = task(function square(n: number): number {
  return n * n;
});

/** Creates a monitor on the worker and returns its reference: the monitor stays there. */
export const makeCounter = task(function makeCounter(start: number): Counter {
  return new Counter(start);
});

/**
 * Receives a Point, which must arrive as a Point, and returns another. (It is constructed here,
 * not in a method of Point: under esbuild's TC39 decorator lowering, tsx and Vite 7, `new Point`
 * inside the class body builds the undecorated class, evanw/esbuild#3968.)
 */
export const movePoint = task(function movePoint(point: Point, dx: number): Point {
  if (!(point instanceof Point)) throw new TypeError('the point did not arrive as a Point');
  return new Point(point.x + dx, point.y);
});

/**
 * Whether the worker runs one safethread, the one this module gets from 'safethread': the token
 * its runtime revived from the argument, and the child's own token, are of the class imported
 * here. (Two copies of safethread on one thread would each have their own classes.)
 */
export const oneSafethread = task(function oneSafethread(token: CancellationToken): boolean {
  return token instanceof CancellationToken && currentToken() instanceof CancellationToken;
});

/** What `scenario()` resolves to when everything works. */
export const expected = {
  squares: [4, 9],
  monitor: { value: 15, onAnotherThread: true },
  actor: { value: 101, onAnotherThread: true },
  point: { isPoint: true, x: 11, y: 2 },
  oneSafethread: true,
};

/** Tasks on pool threads, a monitor crossing threads, an actor, a @shareable round trip, and one safethread per worker. */
export async function scenario(): Promise<typeof expected> {
  const squares = await branch<number>((children) => {
    children.add(square, 2);
    children.add(square, 3);
  });

  const [counter] = await branch<Counter>((children) => {
    children.add(makeCounter, 10);
  });
  const monitor = { value: await counter.add(5), onAnotherThread: (await counter.thread()) !== threadId };

  const spawned = await spawn(Counter, 100);
  let actor: typeof expected.actor;
  try {
    actor = { value: await spawned.add(1), onAnotherThread: (await spawned.thread()) !== threadId };
  } finally {
    await close(spawned);
  }

  const [moved] = await branch<Point>((children) => {
    children.add(movePoint, new Point(1, 2), 10);
  });
  const point = { isPoint: moved instanceof Point, x: moved.x, y: moved.y };

  const [one] = await branch<boolean>((children) => {
    children.add(oneSafethread, new CancellationSource().token);
  });

  return { squares: [...squares], monitor, actor, point, oneSafethread: one };
}

/** For the test runners' reports: an error with the stacks of a BranchError's children. */
export function explained(error: unknown): Error {
  const errors = (error as { errors?: unknown }).errors;
  const all = [error, ...(Array.isArray(errors) ? errors : [])];
  return new Error(all.map((each) => (each as { stack?: string } | undefined)?.stack ?? String(each)).join('\n-- child error:\n'));
}
