import { Worker } from 'node:worker_threads';

/**
 * One fresh process of the `cold-start` comparison (bench/cold-start.ts), compiled to JavaScript
 * beside the built library, as an installed package runs: `node cold-start-child.js <case>`,
 * with the library's built main file (`dist/lib/index.js`, the one file workers also start on)
 * in `COLD_START_LIBRARY`. It times one cold event and prints the milliseconds as its last line.
 *
 * The library is required by path (not imported) so that this file compiles on its own; a worker
 * that loads this file to find {@link Echo} requires the same path and gets the same module.
 */
const library = require(process.env.COLD_START_LIBRARY as string) as typeof import('../lib');
const { Monitor, monitorMethod } = library;

/** The actor of `spawn-first-call`: one trivial method. */
@Monitor
export class Echo {
  @monitorMethod
  async echo(value: number): Promise<number> {
    return value;
  }
}

export type ColdStartCase = 'raw' | 'first-child' | 'spawn-first-call';

/** A worker that answers at once: what starting a thread costs Node itself. */
const RAW_WORKER = "require('node:worker_threads').parentPort.postMessage('ready')";

async function timeCase(kind: ColdStartCase): Promise<number> {
  const started = performance.now();
  switch (kind) {
    case 'raw': {
      const worker = new Worker(RAW_WORKER, { eval: true });
      await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      const ms = performance.now() - started;
      await worker.terminate();
      return ms;
    }
    case 'first-child': {
      await library.branch((children) => {
        children.add(() => 1);
      });
      return performance.now() - started;
    }
    case 'spawn-first-call': {
      const echo = await library.spawn(Echo);
      await echo.echo(1);
      return performance.now() - started;
    }
  }
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ColdStartCase;
  const ms = await timeCase(kind);
  await library.shutdown();
  console.log(String(ms));
}

// A worker loads this file to find Echo: only the process's own run times anything.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  });
}
