import { availableParallelism } from 'node:os';
import { branch, CancellationSource, CancelledError, shutdown, sleep, ThreadCrashError, type Child, type Children } from '../lib';
import type { LatencyCase, LatencyComparison, LatencyTrial } from './comparison';
import { ignoreCancellation, sleepUntilCancelled, spinUntilCancelled, touchThread } from './fixtures';

/**
 * Cancel-to-settle latency: how long after `cancel()` a branch whose child is running settles.
 *
 * Cooperative: the child stops by itself when its token fires, either spinning on
 * `currentToken().cancelled` (a CPU-bound loop, which sees the shared-memory flag at once) or
 * awaiting `sleep(60_000)` (a participating wait, which its thread learns of through an
 * `Atomics.waitAsync` wake-up). DESIGN.md wants that settled within 1 ms: the flag seen on the
 * child's thread, the child's `CancelledError` sent back, the branch settled. A child on this
 * thread (`children.addLocal`) in the same sleep is shown for context: no thread is crossed.
 *
 * Forced: the child is a busy loop that never reads its token, so nothing but ending its thread
 * stops it. With `graceMs: 50` the branch must settle within `graceMs` plus 50 ms; the figure
 * held to the bound is the latency minus `graceMs`. That ends a pool thread per event, so after
 * each one (untimed) a branch with a child on every pool thread waits until the replacement
 * thread has started and loaded its modules, and the next event finds a healthy, warm pool.
 *
 * Each event is timed from the call to `cancel()` (the cancel itself included: what it does
 * synchronously is part of the latency) until the branch's promise settles. Every child first
 * raises a flag in shared memory from its own thread, and only then is it cancelled, so an event
 * never includes a child's dispatch or a thread's start-up. The process is not pinned to one CPU:
 * a spinning child and the main thread each need a CPU for the figure to mean anything.
 */

const THREADS = availableParallelism();
const COOPERATIVE_TARGET_MS = 1;
const GRACE_MS = 50;
const FORCED_TARGET_MS = 50;
/** How long the stubborn child spins if its thread is never ended: a broken termination shows as a huge latency. */
const STUBBORN_LIMIT_MS = 10_000;
/** How long to wait for a child to report that it runs before the bench fails. */
const RUNNING_TIMEOUT_MS = 10_000;

const SPIN_SOURCE = 'pool child spinning on token.cancelled; source.cancel()';
const SPIN_CHILD = 'pool child spinning on token.cancelled; child.cancel()';
const SLEEP_SOURCE = 'pool child in sleep(60_000); source.cancel()';
const LOCAL_SLEEP = 'local child (addLocal) in sleep(60_000); source.cancel()';
const FORCED_SOURCE = `pool child ignoring its token; source.cancel(), graceMs ${GRACE_MS}`;
const FORCED_CHILD = `pool child ignoring its token; child.cancel(), graceMs ${GRACE_MS}`;

/** A branch whose one child is known to be running, and what cancels it. */
interface Running {
  readonly settles: Promise<readonly unknown[]>;
  readonly child: Child<unknown>;
  readonly source: CancellationSource;
}

/**
 * Starts a branch (cancelled by a fresh source) whose body adds one child with `add`, passing it a
 * flag in shared memory, and resolves once the child has raised the flag from its thread.
 */
async function startBranch(what: string, add: (children: Children, running: Int32Array) => Child<unknown>, graceMs?: number): Promise<Running> {
  const running = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const source = new CancellationSource();
  let added: Child<unknown> | undefined;
  const settles = branch((children) => {
    added = add(children, running);
  }, graceMs === undefined ? { token: source.token } : { token: source.token, graceMs });
  const waited = Atomics.waitAsync(running, 0, 0, RUNNING_TIMEOUT_MS);
  if (waited.async) {
    // A child that fails before it runs settles its branch: report that, not a timeout.
    const first = await Promise.race([waited.value, settles.then(() => 'settled' as const, (error: unknown) => error)]);
    if (first === 'timed-out') throw new Error(`cancel-latency: '${what}' did not start within ${RUNNING_TIMEOUT_MS} ms`);
    if (first !== 'ok') throw new Error(`cancel-latency: '${what}' settled before it was cancelled`, { cause: first });
  }
  if (added === undefined) throw new Error(`cancel-latency: '${what}' added no child`);
  return { settles, child: added, source };
}

/** The branch rejected with a `CancelledError`: what cancelling its token from outside must give. */
function expectCancelled(what: string, outcome: PromiseSettledResult<unknown>): void {
  if (outcome.status === 'rejected' && outcome.reason instanceof CancelledError) return;
  const got = outcome.status === 'fulfilled' ? 'resolved' : `rejected with ${String(outcome.reason)}`;
  throw new Error(`cancel-latency: '${what}': the branch ${got}, expected a CancelledError`, outcome.status === 'rejected' ? { cause: outcome.reason } : undefined);
}

/** The branch resolved: a child cancelled alone is not a failure of its branch. */
function expectResolved(what: string, outcome: PromiseSettledResult<unknown>): void {
  if (outcome.status === 'fulfilled') return;
  throw new Error(`cancel-latency: '${what}': the branch rejected, expected it to resolve`, { cause: outcome.reason });
}

/** The child itself ended as expected: stopped by itself (cooperative) or with its thread (forced). */
async function expectChildEnded(what: string, child: Child<unknown>, expected: typeof CancelledError | typeof ThreadCrashError): Promise<void> {
  const error = await child.result.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof expected && !(expected === CancelledError && error instanceof ThreadCrashError)) return;
  throw new Error(`cancel-latency: '${what}': the child ended with ${String(error)}, expected a ${expected.name}`, { cause: error });
}

/** A child on every pool thread: starts the threads that are missing (and loads the fixtures there). */
async function warmPool(): Promise<void> {
  await branch((children) => {
    for (let i = 0; i < THREADS; i++) children.add(touchThread);
  });
}

/** A case whose event is `cancel` of a branch started by `start`, and which checks how it ended. */
function cancelCase(
  name: string,
  start: () => Promise<Running>,
  cancel: (running: Running) => void,
  verify: (running: Running, outcome: PromiseSettledResult<unknown>) => void | Promise<void>,
  recover?: () => Promise<void>,
): LatencyCase {
  return {
    name,
    arm: async (): Promise<LatencyTrial> => {
      const running = await start();
      return { fire: () => cancel(running), settles: running.settles, verify: (outcome) => verify(running, outcome) };
    },
    recover,
  };
}

export function cancelLatencyCooperative(): LatencyComparison {
  const spinner = (what: string) => () => startBranch(what, (children, running) => children.add(spinUntilCancelled, running));
  const stopped = (what: string, branchOutcome: (what: string, outcome: PromiseSettledResult<unknown>) => void) => async (running: Running, outcome: PromiseSettledResult<unknown>) => {
    branchOutcome(what, outcome);
    await expectChildEnded(what, running.child, CancelledError);
  };
  return {
    kind: 'latency',
    name: 'cancel-latency-cooperative',
    summary: `cancel() to branch settled, for a running child that stops when its token fires (pool of ${THREADS} threads, warm)`,
    cases: [
      cancelCase(SPIN_SOURCE, spinner(SPIN_SOURCE), ({ source }) => source.cancel('stop'), stopped(SPIN_SOURCE, expectCancelled)),
      cancelCase(SPIN_CHILD, spinner(SPIN_CHILD), ({ child }) => child.cancel('stop'), stopped(SPIN_CHILD, expectResolved)),
      cancelCase(
        SLEEP_SOURCE,
        () => startBranch(SLEEP_SOURCE, (children, running) => children.add(sleepUntilCancelled, running)),
        ({ source }) => source.cancel('stop'),
        stopped(SLEEP_SOURCE, expectCancelled),
      ),
      cancelCase(
        LOCAL_SLEEP,
        // A local child runs at once, on this thread: it is in its sleep when `addLocal` returns.
        () =>
          startBranch(LOCAL_SLEEP, (children, running) =>
            children.addLocal(async () => {
              const asleep = sleep(60_000);
              Atomics.store(running, 0, 1);
              await asleep;
            }),
          ),
        ({ source }) => source.cancel('stop'),
        stopped(LOCAL_SLEEP, expectCancelled),
      ),
    ],
    targets: [SPIN_SOURCE, SPIN_CHILD, SLEEP_SOURCE].map((name) => ({ case: name, atMostMs: COOPERATIVE_TARGET_MS, label: `median under ${COOPERATIVE_TARGET_MS} ms` })),
    options: { rounds: 60, warmupRounds: 5 },
    setUp: async () => {
      // Starts every pool thread and loads the fixtures there, twice so the second is warm.
      await warmPool();
      await warmPool();
    },
    tearDown: () => shutdown(),
  };
}

export function cancelLatencyForced(): LatencyComparison {
  const stubborn = (what: string) => () => startBranch(what, (children, running) => children.add(ignoreCancellation, running, STUBBORN_LIMIT_MS), GRACE_MS);
  const ended = (what: string, branchOutcome: (what: string, outcome: PromiseSettledResult<unknown>) => void) => async (running: Running, outcome: PromiseSettledResult<unknown>) => {
    branchOutcome(what, outcome);
    await expectChildEnded(what, running.child, ThreadCrashError);
  };
  return {
    kind: 'latency',
    name: 'cancel-latency-forced',
    summary: `cancel() to branch settled, for a running child that never reads its token, so its thread is ended after graceMs = ${GRACE_MS} ms (the pool replaces it between events, untimed)`,
    cases: [
      cancelCase(FORCED_SOURCE, stubborn(FORCED_SOURCE), ({ source }) => source.cancel('stop'), ended(FORCED_SOURCE, expectCancelled), warmPool),
      cancelCase(FORCED_CHILD, stubborn(FORCED_CHILD), ({ child }) => child.cancel('stop'), ended(FORCED_CHILD, expectResolved), warmPool),
    ],
    targets: [FORCED_SOURCE, FORCED_CHILD].map((name) => ({
      case: name,
      atMostMs: FORCED_TARGET_MS,
      allowanceMs: GRACE_MS,
      label: `median - graceMs under ${FORCED_TARGET_MS} ms`,
    })),
    // Every event costs a thread start-up (over a second under ts-node) to recover from.
    options: { rounds: 6, warmupRounds: 1 },
    setUp: async () => {
      await warmPool();
      await warmPool();
    },
    tearDown: () => shutdown(),
  };
}
