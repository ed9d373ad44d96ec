import { Worker, type ResourceLimits } from 'node:worker_threads';
import { runtime } from '../runtime';
import { workerScript } from './module-loader';
import type { WorkerStart } from './protocol';

/** Starts a worker thread that runs safethread's worker program, from compiled JS or TypeScript sources; it tracks waits as this thread does. */
export function startWorker(name: string, resourceLimits: ResourceLimits | undefined): Worker {
  const entry = require.resolve('./worker-entry');
  const script = workerScript(entry);
  return new Worker(script.filename, { eval: script.eval, workerData: { name, deadlockDetection: runtime.poolOptions.deadlockDetection !== false, monitorIds: runtime.monitorIds.buffer as SharedArrayBuffer } satisfies WorkerStart, resourceLimits });
}
