import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configure } from '../../lib';
import { router } from '../../lib/threads/transport';

/**
 * Seeing a pool thread freed: a thread that hosts a monitor (or a channel's or lock's core) stays
 * while any other thread may call it; once it hosts nothing it retires when idle, like any pool
 * thread. Whether the next child runs there is no sign: a child goes to the thread that fell idle
 * last.
 */

/** The collector, for this thread only: jest runs without --expose-gc. */
export function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const IDLE_TIMEOUT_MS = 200;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** The hang guard of {@link retiresOnceCollected}. */
const RETIRE_WITHIN_MS = 10_000;

/** Runs `body` with pool threads retiring after 200 ms idle, then puts the default back. */
export async function withShortIdleTimeout<T>(body: () => Promise<T>): Promise<T> {
  configure({ idleTimeoutMs: IDLE_TIMEOUT_MS });
  try {
    return await body();
  } finally {
    configure({ idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS });
  }
}

/** Whether thread `thread` retires within 10 s, collecting this thread's garbage (`gc`) every 50 ms meanwhile. */
export async function retiresOnceCollected(thread: number, gc: () => void): Promise<boolean> {
  const deadline = Date.now() + RETIRE_WITHIN_MS;
  while (router().has(thread)) {
    if (Date.now() > deadline) return false;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
