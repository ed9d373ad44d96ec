/**
 * Locks and semaphores shared by children on worker threads.
 *
 * A `Lock` guards what no monitor owns (here a counter in shared memory, read and written with an
 * await in between): four children on other threads add to it and no update is lost. A
 * `Semaphore(2)` lets at most two "downloads" run at once, however many children want to. An
 * acquire that waits too long ends with a CancelledError, and a turn that waits for a lock held
 * by a turn that waits for it is told with a DeadlockError instead of hanging.
 *
 * Run alone: npx ts-node samples/locks.ts
 */
import { branch, CancellationToken, DeadlockError, Lock, Monitor, monitorMethod, Semaphore, shutdown, sleep, task } from '../lib';

/** A child: adds 1 to the shared counter `times` times, holding the lock for each read and write. */
export const addUnderLock = task(async function addUnderLock(lock: Lock, memory: SharedArrayBuffer, times: number): Promise<void> {
  const counter = new Int32Array(memory);
  for (let i = 0; i < times; i++) {
    using _held = await lock.acquire(); // released at the end of each iteration
    const seen = counter[0] as number;
    await new Promise((resolve) => setImmediate(resolve)); // e.g. a write to a log between the read and the write
    counter[0] = seen + 1;
  }
});

/** A child: a "download" that takes one of the semaphore's permits; counts the downloads running at once. */
export const download = task(async function download(downloads: Semaphore, memory: SharedArrayBuffer): Promise<void> {
  const running = new Int32Array(memory);
  await downloads.run(async () => {
    const now = Atomics.add(running, 0, 1) + 1;
    if (now > Atomics.load(running, 1)) Atomics.store(running, 1, now);
    await sleep(30);
    Atomics.sub(running, 0, 1);
  });
});

/** A child: waits for the lock at most `ms`. */
export const impatient = task(async function impatient(lock: Lock, ms: number): Promise<string> {
  try {
    using _held = await lock.acquire({ token: CancellationToken.fromSignal(AbortSignal.timeout(ms)) });
    return 'got the lock';
  } catch (error) {
    return `gave up: ${(error as Error).name}`;
  }
});

/** Holds its monitor while it waits for the lock. */
@Monitor
export class Printer {
  @monitorMethod async print(lock: Lock): Promise<string> {
    return lock.run(() => 'printed');
  }

  @monitorMethod async status(): Promise<string> {
    return 'ready';
  }
}

/** Holds the lock while it asks the printer, whose turn waits for that lock: a deadlock. */
@Monitor
export class Spooler {
  @monitorMethod async spool(lock: Lock, printer: Printer): Promise<string> {
    let printing: Promise<string>;
    {
      using _held = await lock.acquire();
      printing = printer.print(lock);
      await sleep(20);
      try {
        await printer.status();
      } catch (error) {
        if (!(error instanceof DeadlockError)) throw error;
        console.log(`${error.message.split('. ')[0]}`);
      }
    } // the lock is released here, so the printer's turn goes on
    return printing;
  }
}

export async function main(): Promise<void> {
  const lock = new Lock();
  const counter = new SharedArrayBuffer(4);
  await branch((children) => {
    for (let i = 0; i < 4; i++) children.add(addUnderLock, lock, counter, 100);
  });
  console.log(`lock: 4 children on worker threads x 100 read-await-write updates: ${new Int32Array(counter)[0]} of 400`);

  const downloads = new Semaphore(2);
  const running = new SharedArrayBuffer(8);
  await branch((children) => {
    for (let i = 0; i < 8; i++) children.add(download, downloads, running);
  });
  console.log(`semaphore: 8 downloads through new Semaphore(2): at most ${new Int32Array(running)[1]} at once`);

  {
    using _held = await lock.acquire();
    const [answer] = await branch<string>((children) => {
      children.add(impatient, lock, 100);
    });
    console.log(`cancelled wait: a child waiting 100 ms for a held lock ${answer}`);
  }

  const printer = new Printer();
  console.log(`after the deadlock: ${await new Spooler().spool(lock, printer)}`);
  await shutdown();
}

if (require.main === module) void main();
