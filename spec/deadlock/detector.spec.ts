import fc from 'fast-check';
import { DeadlockError } from '../../lib';
import { DeadlockDetector } from '../../lib/deadlock/detector';
import { MonitorCall, type CalledMonitor } from '../../lib/deadlock/monitor-call';
import type { DeadlockProbeMessage, DeadlockVerdictMessage } from '../../lib/threads/protocol';

/**
 * The detector over random wait-for graphs spread on simulated threads: one detector per
 * thread, messages delivered in order, compared with a plain depth-first search of the whole graph.
 */

interface GraphSpec {
  readonly threads: number;
  /** The thread of each monitor. */
  readonly monitors: readonly number[];
  /** Each call: its monitor, whether it runs (else it is queued), whether it sleeps, and the calls it waits for. */
  readonly calls: readonly { readonly monitor: number; readonly running: boolean; readonly sleeping: boolean; readonly waitsFor: readonly number[] }[];
}

class World {
  readonly detectors: DeadlockDetector[];
  readonly calls: MonitorCall[] = [];
  readonly rejected: { readonly id: number; readonly error: Error }[] = [];
  readonly #mail: (DeadlockProbeMessage | DeadlockVerdictMessage)[] = [];

  constructor(readonly spec: GraphSpec) {
    this.detectors = Array.from({ length: spec.threads }, (_, thread) => new DeadlockDetector(thread, `thread ${thread}`, (_to, message) => this.#mail.push(message)));
    const monitors = spec.monitors.map((_, index) => ({ label: `M#${index}`, running: new Set<MonitorCall>(), queued: new Set<MonitorCall>() }));
    spec.calls.forEach((shape, index) => {
      const monitor = monitors[shape.monitor] as CalledMonitor & { running: Set<MonitorCall>; queued: Set<MonitorCall> };
      const thread = this.threadOf(index);
      const call = new MonitorCall(index, monitor, `m${index}`, undefined, undefined);
      call.state = shape.running ? 'running' : 'queued';
      call.queuedAt = index;
      call.liveWaits = shape.sleeping ? 1 : 0;
      call.listed = true;
      call.withdraw = (error) => {
        this.rejected.push({ id: index, error });
        monitor.queued.delete(call);
        call.state = 'ended';
        (this.detectors[thread] as DeadlockDetector).calls.delete(index);
      };
      (shape.running ? monitor.running : monitor.queued).add(call);
      (this.detectors[thread] as DeadlockDetector).calls.set(index, call);
      this.calls.push(call);
    });
    spec.calls.forEach((shape, index) => {
      for (const target of shape.waitsFor) {
        const callee = this.calls[target] as MonitorCall;
        (this.calls[index] as MonitorCall).waitFor(target, { thread: this.threadOf(target), monitor: callee.monitor.label, method: callee.method });
      }
    });
  }

  threadOf(call: number): number {
    return this.spec.monitors[(this.spec.calls[call] as GraphSpec['calls'][number]).monitor] as number;
  }

  /** Probes from every queued call, in order, delivering the messages as threads would. */
  probeAll(): void {
    for (const call of this.calls) {
      if (call.state !== 'queued') continue;
      (this.detectors[this.threadOf(call.id)] as DeadlockDetector).probe(call);
      for (let message = this.#mail.shift(); message !== undefined; message = this.#mail.shift()) {
        (this.detectors[message.to] as DeadlockDetector).receive(message);
      }
    }
  }

  /** The whole graph's edges: a queued call waits for its monitor's turns; a turn that does not sleep waits for its calls. */
  edgesOf(call: MonitorCall): number[] {
    if (call.state === 'queued') return [...call.monitor.running].map((turn) => turn.id);
    return call.liveWaits > 0 ? [] : [...call.outgoing.keys()];
  }

  /** Calls on some cycle, by a plain search from each. */
  onCycle(): Set<number> {
    const result = new Set<number>();
    for (const start of this.calls) {
      const seen = new Set<number>();
      const stack = [...this.edgesOf(start)];
      while (stack.length > 0) {
        const id = stack.pop() as number;
        if (id === start.id) {
          result.add(start.id);
          break;
        }
        if (seen.has(id)) continue;
        seen.add(id);
        stack.push(...this.edgesOf(this.calls[id] as MonitorCall));
      }
    }
    return result;
  }
}

/** Random graphs: a turn waits only for queued calls or for turns newer than itself, as in a program. */
const graphs = fc
  .record({ threads: fc.integer({ min: 1, max: 4 }), monitorCount: fc.integer({ min: 1, max: 6 }), callCount: fc.integer({ min: 1, max: 12 }) })
  .chain(({ threads, monitorCount, callCount }) =>
    fc.record({
      threads: fc.constant(threads),
      monitors: fc.array(fc.integer({ min: 0, max: threads - 1 }), { minLength: monitorCount, maxLength: monitorCount }),
      calls: fc
        .array(
          fc.record({
            monitor: fc.integer({ min: 0, max: monitorCount - 1 }),
            running: fc.boolean(),
            sleeping: fc.integer({ min: 0, max: 9 }).map((roll) => roll < 3),
            waitsFor: fc.uniqueArray(fc.integer({ min: 0, max: callCount - 1 }), { maxLength: 3 }),
          }),
          { minLength: callCount, maxLength: callCount },
        )
        .map((calls) =>
          calls.map((call, index) => ({
            ...call,
            waitsFor: call.running ? call.waitsFor.filter((target) => target !== index && (!(calls[target] as typeof call).running || target > index)) : [],
          })),
        ),
    }),
  );

describe('DeadlockDetector', () => {
  it('rejects some call exactly when the graph has a cycle, and only calls on one', () => {
    fc.assert(
      fc.property(graphs, (spec) => {
        const world = new World(spec);
        const onCycle = world.onCycle();
        world.probeAll();
        expect(world.rejected.length > 0).toBe(onCycle.size > 0);
        for (const { id, error } of world.rejected) {
          expect(onCycle.has(id)).toBe(true);
          expect(error).toBeInstanceOf(DeadlockError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never rejects on an acyclic graph', () => {
    const acyclic = graphs.filter((spec) => new World(spec).onCycle().size === 0);
    fc.assert(
      fc.property(acyclic, (spec) => {
        const world = new World(spec);
        world.probeAll();
        expect(world.rejected).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('breaks a ring over any threads once, rejecting the call that queued last, and tells the cycle from its holder', () => {
    const rings = fc.record({ threads: fc.integer({ min: 1, max: 4 }), size: fc.integer({ min: 1, max: 6 }) }).chain(({ threads, size }) =>
      fc.record({ threads: fc.constant(threads), homes: fc.array(fc.integer({ min: 0, max: threads - 1 }), { minLength: size, maxLength: size }) }),
    );
    fc.assert(
      fc.property(rings, ({ threads, homes }) => {
        const size = homes.length;
        // Monitor i holds turn i, which waits for call size+i, queued on monitor i+1.
        const calls = [
          ...homes.map((_, index) => ({ monitor: index, running: true, sleeping: false, waitsFor: [size + index] })),
          ...homes.map((_, index) => ({ monitor: (index + 1) % size, running: false, sleeping: false, waitsFor: [] })),
        ];
        const world = new World({ threads, monitors: homes, calls });
        world.probeAll();
        expect(world.rejected.map((entry) => entry.id)).toEqual([2 * size - 1]);
        const error = world.rejected[0]?.error as DeadlockError;
        expect(error.cycle).toHaveLength(size);
        // The rejected call waits for monitor 0, held by turn 0: the cycle starts there.
        expect(error.cycle[0]).toEqual({ monitor: 'M#0', method: 'm0', thread: `thread ${homes[0]}`, waitsFor: `M#${1 % size}` });
        expect(error.cycle[size - 1]?.waitsFor).toBe('M#0');
      }),
      { numRuns: 200 },
    );
  });

  it('lets a sleeping turn break no cycle until it wakes', () => {
    const spec: GraphSpec = {
      threads: 2,
      monitors: [0, 1],
      calls: [
        { monitor: 0, running: true, sleeping: true, waitsFor: [2] },
        { monitor: 1, running: true, sleeping: false, waitsFor: [3] },
        { monitor: 1, running: false, sleeping: false, waitsFor: [] },
        { monitor: 0, running: false, sleeping: false, waitsFor: [] },
      ],
    };
    const world = new World(spec);
    world.probeAll();
    expect(world.rejected).toEqual([]);
    (world.calls[0] as MonitorCall).liveWaits = 0;
    world.probeAll();
    expect(world.rejected.map((entry) => entry.id)).toEqual([3]);
  });
});
