import { TurnQueue } from '../../lib/monitor/turn-queue';

/** A queue and a log of the turns that started; each turn keeps the monitor until the test releases it. */
function recorded() {
  const queue = new TurnQueue();
  const log: string[] = [];
  const enter = (name: string): void => queue.enter(() => log.push(name));
  return { queue, log, enter };
}

describe('TurnQueue', () => {
  it('starts a turn at once when the monitor is free', () => {
    const { queue, log, enter } = recorded();
    enter('first');
    expect(log).toEqual(['first']);
    expect(queue.held).toBe(true);
  });

  it('runs turns one at a time, in the order they entered', () => {
    const { queue, log, enter } = recorded();
    for (const name of ['a', 'b', 'c', 'd']) enter(name);
    expect(log).toEqual(['a']);
    queue.release();
    expect(log).toEqual(['a', 'b']);
    queue.release();
    queue.release();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reports whether it is held, whether it is free and how many turns wait', () => {
    const { queue, enter } = recorded();
    expect(queue.held).toBe(false);
    expect(queue.free).toBe(true);
    expect(queue.length).toBe(0);

    enter('a');
    expect(queue.held).toBe(true);
    expect(queue.free).toBe(false);
    expect(queue.length).toBe(0);

    enter('b');
    enter('c');
    expect(queue.length).toBe(2);

    queue.release();
    expect(queue.held).toBe(true);
    expect(queue.length).toBe(1);

    queue.release();
    queue.release();
    expect(queue.held).toBe(false);
    expect(queue.free).toBe(true);
    expect(queue.length).toBe(0);
  });

  it('makes turns entered after hold() wait until release()', () => {
    const { queue, log, enter } = recorded();
    queue.hold();
    expect(queue.held).toBe(true);
    expect(queue.free).toBe(false);
    enter('waiting');
    expect(log).toEqual([]);
    expect(queue.length).toBe(1);
    queue.release();
    expect(log).toEqual(['waiting']);
  });

  it('lets the next turn run when a turn releases synchronously', () => {
    const queue = new TurnQueue();
    const log: string[] = [];
    queue.enter(() => {
      log.push('sync');
      queue.release();
    });
    expect(queue.held).toBe(false);
    queue.enter(() => {
      log.push('next');
      queue.release();
    });
    expect(log).toEqual(['sync', 'next']);
    expect(queue.held).toBe(false);
    expect(queue.free).toBe(true);
  });

  it('runs a turn entered from inside a running turn only after that turn releases', () => {
    const queue = new TurnQueue();
    const log: string[] = [];
    queue.enter(() => {
      log.push('outer start');
      queue.enter(() => {
        log.push('inner');
        queue.release();
      });
      log.push('outer end');
      queue.release();
    });
    expect(log).toEqual(['outer start', 'outer end', 'inner']);
    expect(queue.held).toBe(false);
  });

  it('runs 50,000 queued synchronous turns in order without overflowing the stack', () => {
    const queue = new TurnQueue();
    const order: number[] = [];
    queue.hold();
    for (let index = 0; index < 50_000; index++) {
      queue.enter(() => {
        order.push(index);
        queue.release();
      });
    }
    expect(queue.length).toBe(50_000);
    expect(order).toHaveLength(0);

    queue.release();
    expect(order).toHaveLength(50_000);
    expect(order.every((value, index) => value === index)).toBe(true);
    expect(queue.held).toBe(false);
    expect(queue.length).toBe(0);
  });

  it('keeps FIFO order over many turns while new ones enter as it drains', () => {
    const queue = new TurnQueue();
    const order: number[] = [];
    let next = 0;
    const enterOne = (): void => {
      const id = next++;
      queue.enter(() => {
        order.push(id);
        // Every third turn enters another before releasing, while the queue drains.
        if (id % 3 === 0 && next < 5_000) enterOne();
        queue.release();
      });
    };
    queue.hold();
    for (let index = 0; index < 3_000; index++) enterOne();
    queue.release();
    expect(next).toBeGreaterThan(4_000);
    expect(order.length).toBe(next);
    expect(order.every((value, index) => value === index)).toBe(true);
    expect(queue.length).toBe(0);
  });

  it('stays usable after it has drained completely', () => {
    const { queue, log, enter } = recorded();
    enter('a');
    enter('b');
    queue.release();
    queue.release();
    expect(queue.free).toBe(true);
    enter('c');
    enter('d');
    expect(log).toEqual(['a', 'b', 'c']);
    expect(queue.length).toBe(1);
    queue.release();
    expect(log).toEqual(['a', 'b', 'c', 'd']);
  });
});
