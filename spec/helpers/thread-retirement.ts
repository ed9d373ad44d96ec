import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configure } from '../../lib';
import { remoteReferenceCount } from '../../lib/monitor/remote-monitor';
import { router } from '../../lib/threads/transport';

/**
 * Seeing a pool thread freed: a thread that hosts a monitor (or a channel's or lock's core) stays
 * while any other thread may call it; once it hosts nothing it retires when idle, like any pool
 * thread. Whether the next child runs there is no sign: a child goes to the thread that fell idle
 * last.
 *
 * What frees it is this thread's collector: a reference here, once collected, is released to its
 * owner. So when a spec waits in vain, its message says what this thread still holds and whether
 * its collector collects and runs finalizers at all, which tells a leak from a stalled collector.
 */

/** The collector, for this thread only: jest runs without --expose-gc. */
export function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const IDLE_TIMEOUT_MS = 200;
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** The hang guard of the waits here: far above the few hundred milliseconds a release takes. */
const WITHIN_MS = 30_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `body` with pool threads retiring after 200 ms idle, then puts the default back. */
export async function withShortIdleTimeout<T>(body: () => Promise<T>): Promise<T> {
  configure({ idleTimeoutMs: IDLE_TIMEOUT_MS });
  try {
    return await body();
  } finally {
    configure({ idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS });
  }
}

/**
 * `'retired'` once thread `thread` has retired, collecting this thread's garbage (`gc`) every
 * 50 ms meanwhile; after 30 s (a hang guard), what was seen instead.
 */
export async function retirementOnceCollected(thread: number, gc: () => void): Promise<string> {
  const collected = await untilCollected(() => !router().has(thread), gc);
  return collected ? 'retired' : `thread ${thread} still in the pool after ${WITHIN_MS / 1000} s: ${await collectorReport(gc)}`;
}

/**
 * `'released'` once this thread holds `count` references to other threads' monitors (and cores),
 * collecting its garbage (`gc`) every 20 ms meanwhile; after 30 s (a hang guard), what was seen instead.
 */
export async function releaseOnceCollected(count: number, gc: () => void): Promise<string> {
  const collected = await untilCollected(() => remoteReferenceCount() === count, gc, 20);
  return collected ? 'released' : `not down to ${count} after ${WITHIN_MS / 1000} s: ${await collectorReport(gc)}`;
}

async function untilCollected(done: () => boolean, gc: () => void, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + WITHIN_MS;
  while (!done()) {
    if (Date.now() > deadline) return false;
    gc();
    await pause(everyMs);
  }
  return true;
}

/** What this thread holds, and whether its collector collects an object of its own and runs its finalizer. */
async function collectorReport(gc: () => void): Promise<string> {
  let finalized = false;
  const registry = new FinalizationRegistry(() => (finalized = true));
  const probe = ((): WeakRef<object> => {
    const target = {};
    registry.register(target, 0);
    return new WeakRef(target);
  })();
  for (let round = 0; round < 20 && !finalized; round++) {
    gc();
    await pause(50);
  }
  const collected = probe.deref() === undefined;
  return `${remoteReferenceCount()} references to other threads held here; a probe object ${collected ? 'was' : 'was not'} collected and its finalizer ${finalized ? 'ran' : 'did not run'}`;
}
