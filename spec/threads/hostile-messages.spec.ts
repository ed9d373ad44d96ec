import { branch, close, configure, dumpMonitors, shutdown, sleep, spawn } from '../../lib';
import { describeMonitors } from '../../lib/deadlock/monitor-dump';
import { Gate, SlowToBuild } from '../fixtures/hostile';
import { makeTally, Tally } from '../fixtures/monitors';

/**
 * Code on a worker can post anything on its parentPort, which is safethread's link to the main
 * thread. What is not safethread's message, or not that thread's to send, is ignored with one
 * warning: it never ends a thread, settles another's call or spawn, or closes another's actor.
 */

jest.setTimeout(60_000);
afterAll(() => shutdown());

/** The warnings of stray messages the main thread emitted since the spec started: one at most, ever. */
const strayWarnings: unknown[] = [];
const emitWarning = process.emitWarning.bind(process);
beforeAll(() => {
  jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string | Error, options?: { code?: string }) => {
    if (typeof options === 'object' && options?.code === 'SAFETHREAD_STRAY_MESSAGE') strayWarnings.push(warning);
    else emitWarning(warning as string, options as never);
  }) as typeof process.emitWarning);
});
afterAll(() => jest.restoreAllMocks());

/** Runs `post(parentPort, ...args)` in a child on a pool thread, and resolves to 'survived' when it returned. */
async function postFromChild(post: (port: { postMessage(value: unknown): void }, ...args: never[]) => void, ...args: unknown[]): Promise<string> {
  const source = `(...args) => { (${post.toString()})(require('node:worker_threads').parentPort, ...args); return 'survived'; }`;
  // A self-contained function made from source: the child runs `post` with the worker's parentPort.
  const child = new Function(`return ${source}`)() as (...args: unknown[]) => string;
  const [result] = await branch<string>((children) => void children.add(child, ...(args as never[])));
  return result as string;
}

describe('messages a thread did not expect', () => {
  it('ignores, with one warning, what a child posts on parentPort that is not a batch of messages', async () => {
    await expect(
      postFromChild((port) => {
        for (const junk of [42, null, 'text', { kind: 'call' }, Object.create(null), [1, 'x', null], [{ kind: 'no-such-kind' }], [{ kind: 'run-task' }]]) port.postMessage(junk);
      }),
    ).resolves.toBe('survived');
    expect(strayWarnings).toHaveLength(1);
    expect(String((strayWarnings[0] as Error).message ?? strayWarnings[0])).toMatch(/the main thread ignored a number that .+ posted on safethread's port/);
    // The pool goes on.
    await expect(branch<number>((children) => void children.add((n: number) => n + 1, 1))).resolves.toEqual([2]);
  });

  it("does not let a child settle another caller's pending call with its own value", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const gate = await spawn(Gate);
    try {
      const mine = gate.pass(flag, 'its own value');
      await postFromChild((port) => {
        for (let callId = 0; callId < 5000; callId++) port.postMessage([{ kind: 'call-result', to: 0, callId, ok: true, value: { plain: 'stolen' } }]);
      });
      Atomics.store(flag, 0, 1);
      await expect(mine).resolves.toBe('its own value');
    } finally {
      await close(gate);
    }
    expect(strayWarnings).toHaveLength(1);
  });

  it('does not let a child make calls in the name of another thread, which would take that thread its results', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const gate = await spawn(Gate);
    try {
      const thread = await gate.thread();
      const mine = gate.pass(flag, 'its own value');
      await postFromChild(
        (port, to: number) => {
          for (let callId = 0; callId < 5000; callId++) {
            port.postMessage([{ kind: 'call', to, from: 0, callId, monitor: -1, label: 'Gate#-1', method: 'pass', args: [], token: undefined, job: undefined, chain: undefined, callerMonitor: undefined }]);
          }
        },
        thread,
      );
      Atomics.store(flag, 0, 1);
      await expect(mine).resolves.toBe('its own value');
    } finally {
      await close(gate);
    }
  });

  it('does not let a child close an actor that another thread spawned', async () => {
    const gate = await spawn(Gate);
    try {
      const thread = await gate.thread();
      await postFromChild((port, actor: number) => port.postMessage([{ kind: 'close-actor', thread: actor }]), thread);
      await expect(gate.thread()).resolves.toBe(thread);
    } finally {
      await close(gate);
    }
  });

  it('does not let a child settle a spawn that is still constructing', async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const pending = spawn(SlowToBuild, flag);
    await postFromChild((port) => {
      for (let requestId = 0; requestId < 1000; requestId++) port.postMessage([{ kind: 'spawned', requestId, ok: true, value: { plain: 42 } }]);
    });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const built = await pending;
    try {
      await expect(built.ping()).resolves.toBe('pong');
    } finally {
      await close(built);
    }
  });

  it("does not let a child tell the main thread that another thread ended, which would drop that thread's calls", async () => {
    const gate = new Gate(); // on the main thread
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const callerThread = new Int32Array(new SharedArrayBuffer(4));
    // The main thread's call holds the gate; the worker's waits behind it.
    const first = gate.pass(flag, 'first');
    const caller = branch<string>((children) =>
      void children.add(
        async (monitor: Gate, latch: Int32Array, thread: Int32Array) => {
          Atomics.store(thread, 0, require('node:worker_threads').threadId as number);
          return monitor.pass(latch, 'its own value');
        },
        gate,
        flag,
        callerThread,
      ),
    );
    while (!describeMonitors().some((monitor) => monitor.queued.length === 1)) await sleep(5);
    await postFromChild((port, gone: number) => port.postMessage([{ kind: 'thread-gone', thread: gone, why: 'a lie' }]), Atomics.load(callerThread, 0));
    Atomics.store(flag, 0, 1);
    await expect(first).resolves.toBe('first');
    await expect(caller).resolves.toEqual(['its own value']);
  });
});

/** The call ids queued on `monitor` (`Class#id`) now, as the dump tells them. */
async function queuedOn(label: string): Promise<number[]> {
  const dump = await dumpMonitors();
  return dump.monitors.filter((state) => state.monitor === label).flatMap((state) => state.queued.map((call) => call.call));
}

/** Waits (10 s at most, a hang guard) until `monitor` has `count` calls queued, and gives their ids. */
async function whenQueued(label: string, count: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const queued = await queuedOn(label);
    if (queued.length >= count || Date.now() > deadline) return queued;
    await sleep(5);
  }
}

/** A monitor's id, from how its reference describes itself (`[monitor Class#id]`). */
function idOf(reference: object): number {
  return Number(/#(\d+)/.exec(String(reference))?.[1]);
}

describe('messages that only one thread is entitled to send', () => {
  it("does not let a child reject another thread's waiting call with a deadlock verdict or probe it made up", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const gate = await spawn(Gate);
    try {
      const actor = await gate.thread();
      const first = gate.pass(flag, 'first');
      const mine = gate.pass(flag, 'its own value');
      const [call] = await whenQueued(`${String(gate).replace(/^\[monitor (.+)\]$/, '$1')}`, 1);
      expect(call).toBeDefined();
      await postFromChild(
        (port, to: number, queued: number) => {
          const self = require('node:worker_threads').threadId as number;
          const cycle = [{ monitor: 'Gate#0', method: 'pass', thread: 'main', waitsFor: 'Gate#0' }];
          for (const from of [self, 0, to]) {
            port.postMessage([{ kind: 'deadlock-verdict', to, from, call: queued, cycle }]);
            // A probe "back" at the queued call it claims to start from, with every time it might have queued at.
            for (const at of [0, Date.now(), performance.timeOrigin + performance.now()]) {
              port.postMessage([{ kind: 'deadlock-probe', to, from, call: queued, path: { origin: queued, steps: cycle, queued: [{ id: queued, thread: to, at, step: 0 }], visited: [] } }]);
            }
            // A probe naming the call as a candidate for a cycle said to start on this thread, then this thread's verdict.
            port.postMessage([
              { kind: 'deadlock-probe', to, from, call: queued, path: { origin: 1, steps: cycle, queued: [{ id: 1, thread: self, at: 0, step: 0 }], visited: [] } },
              { kind: 'deadlock-verdict', to, from: self, call: queued, cycle },
            ]);
          }
        },
        actor,
        call as number,
      );
      Atomics.store(flag, 0, 1);
      await expect(first).resolves.toBe('first');
      await expect(mine).resolves.toBe('its own value');
    } finally {
      await close(gate);
    }
  });

  it('does not let a child release or close a monitor of another thread that it was never given', async () => {
    const [tally] = await branch<Tally>((children) => void children.add(makeTally, 5));
    const owner = await (tally as Tally).thread();
    const id = idOf(tally as Tally);
    await postFromChild(
      (port, to: number, monitor: number) => {
        const self = require('node:worker_threads').threadId as number;
        for (const from of [self, 0]) {
          for (const change of ['released', 'passed', 'revived', undefined]) port.postMessage([{ kind: 'release', to, from, monitor, change, markers: 1_000_000 }]);
          port.postMessage([{ kind: 'release', to, from, monitor, markers: 1_000_000 }]);
          port.postMessage([{ kind: 'close-monitor', to, from, monitor, why: 'a child closed it' }]);
        }
      },
      owner,
      id,
    );
    // Still exported, open, and answering, on its own thread.
    await expect((tally as Tally).add(1)).resolves.toBe(6);
    await expect((tally as Tally).thread()).resolves.toBe(owner);
  });
});

describe('a fuzz of hostile messages', () => {
  it('survives 1,000 hostile envelopes from a child: other calls settle with their own values, actors and exports stay open, one warning', async () => {
    configure({ threads: 2 });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const gate = await spawn(Gate);
    // A monitor on a pool thread, held here only: no release or close from elsewhere may touch it.
    const [tally] = await branch<Tally>((children) => void children.add(makeTally, 5));
    try {
      const actor = await gate.thread();
      const owner = await (tally as Tally).thread();
      const fromMain = gate.pass(flag, 'main');
      const fromWorker = branch<string>((children) => void children.add(async (monitor: Gate, latch: Int32Array) => monitor.pass(latch, 'worker'), gate, flag));
      const queuedFromMain = gate.pass(flag, 'main, queued');
      // The ids a forger would aim at: the waiting calls (which a verdict could reject), the monitors and their threads.
      const queued = await whenQueued(String(gate).replace(/^\[monitor (.+)\]$/, '$1'), 2);
      expect(queued).toHaveLength(2);
      const targets = Object.freeze([...queued, idOf(gate), idOf(tally as Tally), owner, actor, 0, 1]);
      await expect(
        postFromChild(
          (port, fastCheck: string, aimed: readonly number[]) => {
            const fc = require(fastCheck) as typeof import('fast-check');
            const self = require('node:worker_threads').threadId as number;
            const id = fc.oneof(fc.nat(3000), fc.integer(), fc.double(), fc.constantFrom(...aimed, self, -1, 2 ** 32, 2 ** 53, Number.MAX_VALUE, Infinity, NaN), fc.constantFrom(...aimed), fc.string());
            const junk = fc.anything({ withNullPrototype: true, maxDepth: 2 });
            // Kinds whose handling is the sender's own business (asking for work, settling its own jobs, hosting) are left out: they are not hostile to others.
            const kind = fc.constantFrom(
              'call', 'call-result', 'close-actor', 'spawned', 'stream-event', 'subscribe', 'unsubscribe', 'deadlock-probe', 'deadlock-verdict',
              'monitors-dumped', 'thread-gone', 'run-task', 'child-settled', 'construct', 'dump-monitors', 'release', 'close-monitor', 'job-blocked', 'no-such-kind',
            );
            const step = fc.record({ monitor: fc.string(), method: fc.string(), thread: fc.string(), waitsFor: fc.string() });
            const entry = fc.record({ id, thread: id, at: fc.oneof(fc.double(), fc.constant(Date.now())), step: fc.nat(3) });
            const path = fc.oneof(fc.record({ origin: id, steps: fc.array(step, { maxLength: 3 }), queued: fc.array(entry, { maxLength: 3 }), visited: fc.array(id, { maxLength: 3 }) }), junk);
            const envelope = fc.record(
              {
                kind,
                to: id,
                from: id,
                callId: id,
                call: id,
                thread: id,
                requestId: id,
                id,
                job: id,
                monitor: id,
                ok: fc.boolean(),
                value: fc.record({ plain: junk }),
                event: fc.constantFrom('next', 'error', 'complete', 'other'),
                error: junk,
                why: fc.string(),
                change: fc.constantFrom('released', 'passed', 'revived', 'other'),
                markers: fc.oneof(fc.integer(), fc.constantFrom(1, 1_000_000, -1_000_000, Infinity, NaN)),
                delta: fc.constantFrom(1, -1, 0, 2),
                path,
                cycle: fc.oneof(fc.array(step, { maxLength: 3 }), junk),
                monitors: fc.oneof(fc.array(fc.record({ monitor: fc.string(), thread: fc.string(), running: fc.constant([]), queued: fc.constant([]) }), { maxLength: 2 }), junk),
              },
              { requiredKeys: ['kind'] },
            );
            const batch = fc.oneof(junk, fc.array(fc.oneof(envelope, junk), { maxLength: 5 }), fc.array(envelope, { minLength: 1, maxLength: 3 }));
            for (const message of fc.sample(batch, { seed: 12, numRuns: 1000 })) {
              try {
                port.postMessage(message);
              } catch {
                // Not cloneable: it never leaves the worker.
              }
            }
          },
          require.resolve('fast-check'),
          targets,
        ),
      ).resolves.toBe('survived');
      Atomics.store(flag, 0, 1);
      await expect(fromMain).resolves.toBe('main');
      await expect(fromWorker).resolves.toEqual(['worker']);
      await expect(queuedFromMain).resolves.toBe('main, queued');
      await expect(gate.thread()).resolves.toBe(actor);
      // Neither released nor closed: still exported on its own thread, and answering.
      await expect((tally as Tally).add(1)).resolves.toBe(6);
      await expect((tally as Tally).thread()).resolves.toBe(owner);
    } finally {
      await close(gate);
    }
    expect(strayWarnings).toHaveLength(1);
    await expect(branch<number>((children) => void children.add((n: number) => n * 2, 21))).resolves.toEqual([42]);
  });
});
