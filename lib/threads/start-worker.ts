import { Worker, type ResourceLimits } from 'node:worker_threads';
import { tracksWaits } from '../deadlock/wait-tracking';
import { liveMonitors } from '../monitor/live-monitors';
import { WORKER_ENTRY, workerScript } from './module-loader';
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
  const script = workerScript(WORKER_ENTRY);
  const start: WorkerStart = {
    name,
    deadlockDetection: tracksWaits(),
    monitorIds: liveMonitors().ids,
    typescriptLoader: preferredLoader() ?? mainThreadLoader(),
  };
  const execArgv = configuration().options.execArgv;
  return new Worker(script.filename, {
    eval: script.eval,
    workerData: start,
    resourceLimits,
    ...(execArgv === undefined ? {} : { execArgv: [...execArgv] }),
    ...(start.typescriptLoader === 'ts-node' ? { env: typeCheckedOnce() } : {}),
  });
}

/**
 * ts-node inherited through `-r ts-node/register` would type-check the whole program again in every
 * worker (seconds each); the main thread has reported type errors already.
 */
function typeCheckedOnce(): NodeJS.ProcessEnv {
  return { TS_NODE_TRANSPILE_ONLY: 'true', ...process.env };
}
