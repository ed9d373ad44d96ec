import { Worker, type ResourceLimits } from 'node:worker_threads';
import { tracksWaits } from '../deadlock/wait-tracking';
import { liveMonitors } from '../monitor/live-monitors';
import { codeCacheFile, codeCacheStart } from './code-cache';
import { WORKER_ENTRY, WORKERS_START_ON_LIBRARY, workerScript, type WorkerScript } from './module-loader';
import { configuration } from './pool-options';
import type { WorkerStart } from './protocol';
import { mainThreadLoader, preferredLoader } from './typescript-loader';

/**
 * Starts a worker thread that runs safethread's worker program, from compiled JS or TypeScript
 * sources. It tracks waits as this thread does, starts with the Node options `configure({ execArgv })`
 * gave (else this process's own, so a loader such as `--import tsx` comes along), and knows the
 * main thread's TypeScript loader in case it did not come along.
 */
export function startWorker(name: string, resourceLimits: ResourceLimits | undefined): Worker {
  const execArgv = configuration().options.execArgv;
  const script = entryScript(execArgv ?? process.execArgv);
  const start: WorkerStart = {
    name,
    deadlockDetection: tracksWaits(),
    monitorIds: liveMonitors().ids,
    typescriptLoader: preferredLoader() ?? mainThreadLoader(),
  };
  return new Worker(script.filename, {
    eval: script.eval,
    workerData: start,
    resourceLimits,
    ...(execArgv === undefined ? {} : { execArgv: [...execArgv] }),
    ...(start.typescriptLoader === 'ts-node' ? { env: typeCheckedOnce() } : {}),
  });
}

/** The worker's script: safethread's one file through its code cache where it has one, else as module-loader.ts says. */
function entryScript(execArgv: readonly string[]): WorkerScript {
  const cacheFile = WORKERS_START_ON_LIBRARY ? codeCacheFile(WORKER_ENTRY, execArgv) : undefined;
  return cacheFile === undefined ? workerScript(WORKER_ENTRY) : codeCacheStart(WORKER_ENTRY, cacheFile);
}

/**
 * ts-node inherited through `-r ts-node/register` would type-check the whole program again in every
 * worker (seconds each); the main thread has reported type errors already.
 */
function typeCheckedOnce(): NodeJS.ProcessEnv {
  return { TS_NODE_TRANSPILE_ONLY: 'true', ...process.env };
}
