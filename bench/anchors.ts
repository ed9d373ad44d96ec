import { once } from 'node:events';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import Piscina from 'piscina';

/**
 * The other side of every cross-thread comparison: the limits (a raw MessagePort and Atomics)
 * and the libraries safethread is measured against (Comlink, piscina). Each starts its worker
 * ready to answer at once, so no measured sample includes a thread's start-up, and each has a
 * `close()` that ends its thread, so `npm run bench` exits by itself.
 */

const WORKERS = join(__dirname, 'workers');

/** A worker that echoes every message: the raw MessagePort round trip. */
export class EchoWorker {
  readonly #worker: Worker;
  #waiting = 0;
  #done: (() => void) | undefined = undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', () => {
      if (--this.#waiting > 0) return;
      const done = this.#done;
      this.#done = undefined;
      done?.();
    });
  }

  static async start(): Promise<EchoWorker> {
    const echo = new EchoWorker(new Worker(join(WORKERS, 'echo-worker.js')));
    await once(echo.#worker, 'online');
    await echo.roundTrips(100);
    return echo;
  }

  /** Posts `count` messages at once and resolves when every echo is back (one: a plain round trip). */
  roundTrips(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting = count;
      this.#done = resolve;
      for (let i = 0; i < count; i++) this.#worker.postMessage(i);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

const REQUEST = 1;
// The worker answers by storing 2 (reply) in the same word; see workers/atomics-worker.js.
const STOP = 3;
const REPLY_TIMEOUT_MS = 5000;

/** A worker answering through shared memory, Atomics.wait and Atomics.notify: no message at all. */
export class AtomicsPingPong {
  readonly #worker: Worker;
  readonly #state: Int32Array;

  private constructor(worker: Worker, state: Int32Array) {
    this.#worker = worker;
    this.#state = state;
  }

  static async start(): Promise<AtomicsPingPong> {
    const shared = new SharedArrayBuffer(4);
    const pingPong = new AtomicsPingPong(new Worker(join(WORKERS, 'atomics-worker.js'), { workerData: shared }), new Int32Array(shared));
    await once(pingPong.#worker, 'online');
    pingPong.roundTrip();
    return pingPong;
  }

  /** One request and its reply; blocks this thread until the reply (as the limit would). */
  roundTrip(): void {
    const state = this.#state;
    Atomics.store(state, 0, REQUEST);
    Atomics.notify(state, 0);
    while (Atomics.load(state, 0) === REQUEST) {
      // A bound, so that a worker that died cannot hang the bench.
      if (Atomics.wait(state, 0, REQUEST, REPLY_TIMEOUT_MS) === 'timed-out') throw new Error('bench: the Atomics worker did not answer within 5 s');
    }
  }

  async close(): Promise<void> {
    Atomics.store(this.#state, 0, STOP);
    Atomics.notify(this.#state, 0);
    await this.#worker.terminate();
  }
}

/** What bench/workers/comlink-worker.js exposes. */
export interface ComlinkCounter {
  increment(): number;
}

/** A Comlink proxy of a counter on its own worker. */
export class ComlinkAnchor {
  readonly #worker: Worker;
  readonly counter: Comlink.Remote<ComlinkCounter>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.counter = Comlink.wrap<ComlinkCounter>(nodeEndpoint(worker));
  }

  static async start(): Promise<ComlinkAnchor> {
    const anchor = new ComlinkAnchor(new Worker(join(WORKERS, 'comlink-worker.js')));
    await once(anchor.#worker, 'online');
    for (let i = 0; i < 100; i++) await anchor.counter.increment();
    return anchor;
  }

  async close(): Promise<void> {
    this.counter[Comlink.releaseProxy]();
    await this.#worker.terminate();
  }
}

/** N bare workers that each run their share of the spins: the ceiling of what N threads can do here. */
export class SpinWorkers {
  readonly #workers: readonly Worker[];

  private constructor(workers: readonly Worker[]) {
    this.#workers = workers;
  }

  static async start(threads: number): Promise<SpinWorkers> {
    const workers = Array.from({ length: threads }, () => new Worker(join(WORKERS, 'spin-worker.js')));
    await Promise.all(workers.map((worker) => once(worker, 'online')));
    const spinWorkers = new SpinWorkers(workers);
    await spinWorkers.run(1000, threads);
    return spinWorkers;
  }

  /** Runs `total` spins of `steps` each, shared out evenly; resolves to the checksums. */
  run(steps: number, total: number): Promise<number[]> {
    const threads = this.#workers.length;
    return Promise.all(
      this.#workers.map(async (worker, index) => {
        const count = Math.floor(total / threads) + (index < total % threads ? 1 : 0);
        worker.postMessage({ steps, count });
        const [sum] = (await once(worker, 'message')) as [number];
        return sum;
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}

/** Names of the tasks in bench/workers/piscina-tasks.js. */
export type PiscinaTask = 'increment' | 'spin' | 'lengthOf';

/**
 * A piscina pool of exactly `threads` threads (all started before measuring) running one task of
 * bench/workers/piscina-tasks.js.
 */
export async function startPiscina<T, R>(task: PiscinaTask, threads: number, warmUp: T): Promise<Piscina<T, R>> {
  const pool = new Piscina<T, R>({ filename: join(WORKERS, 'piscina-tasks.js'), name: task, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  // Enough tasks at once to reach every thread.
  await Promise.all(Array.from({ length: threads * 4 }, () => pool.run(warmUp)));
  return pool;
}

/** What the consumer of a {@link NumberPipe} reports at the end of a run. */
interface PipeRun {
  readonly count: number;
  readonly sum: number;
}

/**
 * Two bare workers, a producer and a consumer, streaming numbers over a MessagePort of their own
 * (bench/workers/channel-worker.js), bounded by a window of credits like a channel of that
 * capacity, or unbounded (`window` 0): the raw anchor of the channel bench.
 */
export class NumberPipe {
  readonly #producer: Worker;
  readonly #consumer: Worker;

  private constructor(producer: Worker, consumer: Worker) {
    this.#producer = producer;
    this.#consumer = consumer;
  }

  static async start(window: number): Promise<NumberPipe> {
    const worker = (role: 'producer' | 'consumer') => new Worker(join(WORKERS, 'channel-worker.js'), { workerData: { role, window } });
    const pipe = new NumberPipe(worker('producer'), worker('consumer'));
    await Promise.all([once(pipe.#producer, 'online'), once(pipe.#consumer, 'online')]);
    const { port1, port2 } = new MessageChannel();
    pipe.#producer.postMessage({ port: port1 }, [port1]);
    pipe.#consumer.postMessage({ port: port2 }, [port2]);
    await pipe.run(1000);
    return pipe;
  }

  /** Streams `0 .. count - 1` from the producer to the consumer; resolves to their sum once the consumer took them all. */
  async run(count: number): Promise<number> {
    const done = once(this.#consumer, 'message') as Promise<[PipeRun]>;
    this.#consumer.postMessage({ from: 0, count });
    this.#producer.postMessage({ from: 0, count });
    const [run] = await done;
    if (run.count !== count) throw new Error(`bench: the raw pipe carried ${run.count} numbers, not ${count}`);
    return run.sum;
  }

  async close(): Promise<void> {
    await Promise.all([this.#producer.terminate(), this.#consumer.terminate()]);
  }
}

/**
 * A bare worker that posts numbers to this thread (bench/workers/stream-worker.js), one message
 * each or all in one array: the raw anchor of the stream bench.
 */
export class NumberStreamWorker {
  readonly #worker: Worker;
  #expected = 0;
  #received = 0;
  #sum = 0;
  #done: ((sum: number) => void) | undefined = undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: number | readonly number[]) => {
      if (typeof message === 'number') {
        this.#received++;
        this.#sum += message;
      } else {
        this.#received += message.length;
        for (const value of message) this.#sum += value;
      }
      if (this.#received < this.#expected) return;
      const done = this.#done;
      this.#done = undefined;
      done?.(this.#sum);
    });
  }

  static async start(): Promise<NumberStreamWorker> {
    const stream = new NumberStreamWorker(new Worker(join(WORKERS, 'stream-worker.js')));
    await once(stream.#worker, 'online');
    await stream.stream(1000, false);
    await stream.stream(1000, true);
    return stream;
  }

  /** Has the worker post `0 .. count - 1` (one message each, or one array when `batched`); resolves to their sum once all arrived. */
  stream(count: number, batched: boolean): Promise<number> {
    return new Promise((resolve) => {
      this.#expected = count;
      this.#received = 0;
      this.#sum = 0;
      this.#done = resolve;
      this.#worker.postMessage({ count, batched });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
