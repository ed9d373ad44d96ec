import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { MessageKind, type ToMain, type ToWorker } from '../../lib/threads/protocol';
import { Router, type MainThreadMessage } from '../../lib/threads/router';
import { captureWarnings } from '../helpers/warnings';

/**
 * The main thread's router passes on a worker's message only when it is that worker's to send:
 * in its own name, about jobs it runs or serves, answering what it was asked. Driven here with a
 * stand-in worker, so each kind is tried alone and nothing depends on timing.
 */

class StandInWorker extends EventEmitter {
  readonly posted: unknown[] = [];

  constructor(readonly threadId: number) {
    super();
  }

  postMessage(batch: readonly unknown[]): void {
    this.posted.push(...batch);
  }

  ref(): void {}
  unref(): void {}
}

const THREAD = 7;

function routerWithWorker(): { readonly router: Router; readonly worker: StandInWorker; readonly received: MainThreadMessage[]; post(message: ToMain): void } {
  const received: MainThreadMessage[] = [];
  const router = new Router((message) => received.push(message));
  const worker = new StandInWorker(THREAD);
  router.attach(worker as unknown as Worker, `thread ${THREAD}`);
  return { router, worker, received, post: (message) => worker.emit('message', [message]) };
}

beforeEach(() => captureWarnings());
afterEach(() => jest.restoreAllMocks());

describe('the router takes from a worker only what is that worker’s to send', () => {
  it('a job-blocked message only for a job running on the sender, or one whose call it serves', () => {
    const { router, received, post } = routerWithWorker();
    post({ kind: MessageKind.JobBlocked, job: 5, delta: 1 });
    expect(received).toEqual([]);
    router.send(THREAD, { kind: MessageKind.RunTask, id: 5, spec: { kind: 'inline', source: '() => 1', name: 'one' }, args: [], token: { kind: 'token', id: '0:0', memory: undefined, ancestors: [] } });
    post({ kind: MessageKind.JobBlocked, job: 5, delta: 1 });
    expect(received).toHaveLength(1);
    // Job 9 runs elsewhere, but made a call that this thread serves: its channel waits count.
    post({ kind: MessageKind.JobBlocked, job: 9, delta: 1 });
    router.send(THREAD, { kind: MessageKind.Call, to: THREAD, from: 0, callId: 1, monitor: 1, label: 'M#1', method: 'm', args: [], token: undefined, job: 9, chain: undefined, callerMonitor: undefined });
    post({ kind: MessageKind.JobBlocked, job: 9, delta: 1 });
    expect(received.map((message) => (message as { job?: number }).job)).toEqual([5, 9]);
    // Once the job settled, it is not the thread's any more.
    post({ kind: MessageKind.TaskSettled, id: 5, ok: true, value: { plain: 1 } });
    post({ kind: MessageKind.JobBlocked, job: 5, delta: -1 });
    expect(received.map((message) => message.kind)).toEqual([MessageKind.JobBlocked, MessageKind.JobBlocked, MessageKind.TaskSettled]);
  });

  it('nothing about a child the pool took back from that thread before it started there', () => {
    const { router, received, post } = routerWithWorker();
    router.send(THREAD, { kind: MessageKind.RunTask, id: 6, spec: { kind: 'inline', source: '() => 1', name: 'one' }, args: [], token: { kind: 'token', id: '0:0', memory: undefined, ancestors: [] } });
    expect(router.jobCount(THREAD)).toBe(1);
    router.withdrawJob(THREAD, 6);
    expect(router.jobCount(THREAD)).toBe(0);
    post({ kind: MessageKind.JobBlocked, job: 6, delta: 1 });
    expect(received).toEqual([]);
  });

  it('a monitors-dumped message only as the one answer to a dump request sent to that thread', () => {
    const { router, received, post } = routerWithWorker();
    post({ kind: MessageKind.MonitorsDumped, requestId: 3, monitors: [] });
    expect(received).toEqual([]);
    router.send(THREAD, { kind: MessageKind.DumpMonitors, requestId: 3 } as ToWorker);
    post({ kind: MessageKind.MonitorsDumped, requestId: 3, monitors: [] });
    post({ kind: MessageKind.MonitorsDumped, requestId: 3, monitors: [{ monitor: 'Forged#1', thread: 'main', running: [], queued: [] }] });
    expect(received).toEqual([{ kind: MessageKind.MonitorsDumped, requestId: 3, monitors: [] }]);
  });

  it('release, close-monitor, deadlock-probe and deadlock-verdict messages only in the sender’s own name', () => {
    const { received, post } = routerWithWorker();
    const path = { origin: 1, steps: [], queued: [], visited: [] };
    const inTheNameOf = (from: number): ToMain[] => [
      { kind: MessageKind.Release, to: 0, from, monitor: 1, change: 'released', markers: 1 },
      { kind: MessageKind.CloseMonitor, to: 0, from, monitor: 1, why: 'closed' },
      { kind: MessageKind.DeadlockProbe, to: 0, from, call: 1, path },
      { kind: MessageKind.DeadlockVerdict, to: 0, from, call: 1, cycle: [] },
    ];
    for (const message of [...inTheNameOf(0), ...inTheNameOf(THREAD + 1)]) post(message);
    expect(received).toEqual([]);
    for (const message of inTheNameOf(THREAD)) post(message);
    expect(received).toEqual(inTheNameOf(THREAD));
  });
});
