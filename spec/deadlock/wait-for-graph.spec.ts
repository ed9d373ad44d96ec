import fc from 'fast-check';
import { WaitForGraph } from '../../lib/deadlock/wait-for-graph';

type Edge = readonly [waiter: string, holder: string];

/**
 * The reference: whether `edges` hold a cycle, by Kahn's algorithm (peel off nodes that wait for
 * nobody left; a cycle is whatever can never be peeled). Independent of the graph's own search.
 */
const hasCycle = (edges: readonly Edge[]): boolean => {
  const waitsLeft = new Map<string, number>();
  const waitersOf = new Map<string, string[]>();
  for (const [waiter, holder] of edges) {
    waitsLeft.set(waiter, (waitsLeft.get(waiter) ?? 0) + 1);
    if (!waitsLeft.has(holder)) waitsLeft.set(holder, 0);
    waitersOf.set(holder, [...(waitersOf.get(holder) ?? []), waiter]);
  }
  const free = [...waitsLeft].filter(([, count]) => count === 0).map(([node]) => node);
  let peeled = 0;
  while (free.length > 0) {
    const node = free.pop() as string;
    peeled++;
    for (const waiter of waitersOf.get(node) ?? []) {
      const left = (waitsLeft.get(waiter) as number) - 1;
      waitsLeft.set(waiter, left);
      if (left === 0) free.push(waiter);
    }
  }
  return peeled < waitsLeft.size;
};

/** Whether `cycle` is a real cycle of `edges` starting with the edge `waiter -> holder`. */
const isCycleThrough = (cycle: readonly string[], edges: readonly Edge[], waiter: string, holder: string): boolean => {
  const present = new Set(edges.map(([from, to]) => `${from}\u0000${to}`));
  const steps = cycle.map((node, index) => [node, cycle[(index + 1) % cycle.length] as string] as const);
  return (
    cycle[0] === waiter &&
    (cycle.length === 1 ? waiter === holder : cycle[1] === holder) &&
    new Set(cycle).size === cycle.length &&
    steps.every(([from, to]) => present.has(`${from}\u0000${to}`))
  );
};

const sorted = (edges: readonly Edge[]): string[] => edges.map(([from, to]) => `${from}->${to}`).sort();

describe('WaitForGraph', () => {
  describe('classic shapes', () => {
    it('refuses the second wait of a two-party inversion and names the cycle from the last waiter', () => {
      const graph = new WaitForGraph();
      expect(graph.addWait('a', 'b')).toBeUndefined();
      expect(graph.addWait('b', 'a')).toEqual(['b', 'a']);
      expect(graph.edges()).toEqual([['a', 'b']]);
    });

    it('refuses the wait that closes a three-party cycle, in waiting order', () => {
      const graph = new WaitForGraph();
      expect(graph.addWait('a', 'b')).toBeUndefined();
      expect(graph.addWait('b', 'c')).toBeUndefined();
      expect(graph.addWait('c', 'a')).toEqual(['c', 'a', 'b']);
      expect(graph.edgeCount).toBe(2);
    });

    it('refuses the crossing of two call chains (A.m waits B, B.n waits A) whichever crosses last', () => {
      // Each chain: a call waits for the turn it started on the other monitor.
      const graph = new WaitForGraph();
      expect(graph.addWait('A.m', 'B.turn-of-A.m')).toBeUndefined();
      expect(graph.addWait('B.n', 'A.turn-of-B.n')).toBeUndefined();
      // Each started turn queues behind the other chain's holder.
      expect(graph.addWait('B.turn-of-A.m', 'B.n')).toBeUndefined();
      expect(graph.addWait('A.turn-of-B.n', 'A.m')).toEqual(['A.turn-of-B.n', 'A.m', 'B.turn-of-A.m', 'B.n']);
    });

    it('refuses a party waiting for itself, the shortest cycle', () => {
      const graph = new WaitForGraph();
      expect(graph.addWait('a', 'a')).toEqual(['a']);
      expect(graph.edgeCount).toBe(0);
    });

    it('accepts a long chain of waits, and refuses the edge closing it without overflowing the stack', () => {
      const graph = new WaitForGraph();
      const length = 50_000;
      let refused = 0;
      for (let i = 0; i < length - 1; i++) if (graph.addWait(`n${i}`, `n${i + 1}`) !== undefined) refused++;
      expect(refused).toBe(0);
      const whole = graph.addWait(`n${length - 1}`, 'n0');
      expect(whole?.length).toBe(length);
      expect(whole?.slice(0, 3)).toEqual([`n${length - 1}`, 'n0', 'n1']);
      expect(graph.addWait('n0', `n${length - 1}`)).toBeUndefined(); // a shortcut forward is no cycle
      // Among the cycles now closed, the one reported is the shortest: through the shortcut.
      expect(graph.addWait(`n${length - 1}`, 'n0')).toEqual([`n${length - 1}`, 'n0']);
    });

    it('accepts a wait refused before once an edge of the cycle is gone', () => {
      const graph = new WaitForGraph();
      graph.addWait('a', 'b');
      graph.addWait('b', 'c');
      expect(graph.addWait('c', 'a')).toBeDefined();
      graph.removeWait('b', 'c');
      expect(graph.addWait('c', 'a')).toBeUndefined();
      expect(sorted(graph.edges())).toEqual(['a->b', 'c->a']);
    });

    it('clears every edge from and to a removed node, and its description', () => {
      const graph = new WaitForGraph();
      graph.addWait('a', 'b');
      graph.addWait('b', 'c');
      graph.addWait('b', 'd');
      graph.addWait('e', 'b');
      graph.addWait('a', 'c');
      graph.describe('b', 'Pong#2.back (thread 3)');
      graph.removeNode('b');
      expect(sorted(graph.edges())).toEqual(['a->c']);
      expect(graph.edgeCount).toBe(1);
      expect(graph.waitersOf('c')).toEqual(['a']);
      expect(graph.waitsOf('b')).toEqual([]);
      expect(graph.descriptionOf('b')).toBeUndefined();
      expect(graph.addWait('c', 'b')).toBeUndefined(); // b -> c is gone, so this closes nothing
    });

    it('finds a cycle through any of several holders a waiter awaits at once', () => {
      const graph = new WaitForGraph();
      expect(graph.addWait('a', 'x')).toBeUndefined();
      expect(graph.addWait('a', 'b')).toBeUndefined();
      expect(graph.waitsOf('a')).toEqual(['x', 'b']);
      expect(graph.addWait('b', 'c')).toBeUndefined();
      expect(graph.addWait('c', 'a')).toEqual(['c', 'a', 'b']);
      expect(graph.addWait('c', 'x')).toBeUndefined(); // x waits for nobody: no cycle
    });

    it('keeps an edge waited twice until both waits end', () => {
      const graph = new WaitForGraph();
      graph.addWait('turn', 'holder');
      graph.addWait('turn', 'holder');
      expect(graph.edgeCount).toBe(1);
      graph.removeWait('turn', 'holder');
      expect(graph.has('turn', 'holder')).toBe(true);
      expect(graph.addWait('holder', 'turn')).toEqual(['holder', 'turn']);
      graph.removeWait('turn', 'holder');
      expect(graph.has('turn', 'holder')).toBe(false);
      expect(graph.addWait('holder', 'turn')).toBeUndefined();
    });

    it('ignores the removal of a wait it refused or never had', () => {
      const graph = new WaitForGraph();
      graph.addWait('a', 'b');
      graph.addWait('b', 'a'); // refused
      graph.removeWait('b', 'a');
      graph.removeWait('x', 'y');
      graph.removeNode('z');
      expect(graph.edges()).toEqual([['a', 'b']]);
    });

    it('keeps a description per node for messages', () => {
      const graph = new WaitForGraph<{ readonly monitor: string; readonly method: string }>();
      graph.describe('call-1', { monitor: 'Ping#1', method: 'start' });
      graph.describe('call-2', { monitor: 'Pong#2', method: 'back' });
      graph.addWait('call-1', 'call-2');
      const cycle = graph.addWait('call-2', 'call-1') ?? [];
      expect(cycle.map((id) => graph.descriptionOf(id)?.monitor)).toEqual(['Pong#2', 'Ping#1']);
    });
  });

  describe('random wait-for graphs', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'];
    const node = fc.constantFrom(...nodes);
    // Mostly waits between two different parties (self-waits are refused at once, so they say
    // little), and removals that often hit an edge that is there: that keeps the graphs dense
    // enough for cycles of three and more to close, and to reopen after a removal.
    const pair = fc.uniqueArray(node, { minLength: 2, maxLength: 2 }).map(([waiter, holder]) => ({ waiter: waiter as string, holder: holder as string }));
    const operation = fc.oneof(
      { arbitrary: pair.map((edge) => ({ kind: 'add' as const, ...edge })), weight: 10 },
      { arbitrary: node.map((id) => ({ kind: 'add' as const, waiter: id, holder: id })), weight: 1 },
      { arbitrary: pair.map((edge) => ({ kind: 'remove' as const, ...edge })), weight: 2 },
      { arbitrary: fc.nat().map((index) => ({ kind: 'removeExisting' as const, index })), weight: 2 },
      { arbitrary: node.map((id) => ({ kind: 'removeNode' as const, id })), weight: 1 },
    );
    type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;
    /** Turns a `removeExisting` into the `remove` of one edge there now, or of none. */
    const resolve = (op: Operation, graph: WaitForGraph): Operation => {
      if (op.kind !== 'removeExisting') return op;
      const edges = graph.edges();
      const [waiter, holder] = edges[op.index % Math.max(edges.length, 1)] ?? ['a', 'b'];
      return { kind: 'remove', waiter, holder };
    };
    const operations = fc.array(operation, { minLength: 5, maxLength: 60 });

    it('refuses a wait exactly when it would close a cycle, returns that cycle, and never holds one', () => {
      fc.assert(
        fc.property(operations, (ops) => {
          const graph = new WaitForGraph();
          for (const planned of ops) {
            const op = resolve(planned, graph);
            if (op.kind === 'add') {
              const before = graph.edges();
              const candidate = [...before, [op.waiter, op.holder] as const];
              const cycle = graph.addWait(op.waiter, op.holder);
              expect(cycle !== undefined).toBe(hasCycle(candidate));
              if (cycle !== undefined) {
                expect(isCycleThrough(cycle, candidate, op.waiter, op.holder)).toBe(true);
                expect(sorted(graph.edges())).toEqual(sorted(before)); // a refused wait changes nothing
              }
            } else if (op.kind === 'remove') {
              graph.removeWait(op.waiter, op.holder);
            } else if (op.kind === 'removeNode') {
              graph.removeNode(op.id);
            }
            expect(hasCycle(graph.edges())).toBe(false);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('holds exactly the accepted waits not yet ended, counted, with consistent indexes', () => {
      fc.assert(
        fc.property(operations, (ops) => {
          const graph = new WaitForGraph();
          // The model: open waits per edge, as the graph should count them.
          const open = new Map<string, number>();
          const key = (waiter: string, holder: string): string => `${waiter}->${holder}`;
          for (const planned of ops) {
            const op = resolve(planned, graph);
            if (op.kind === 'add') {
              if (graph.addWait(op.waiter, op.holder) === undefined) {
                open.set(key(op.waiter, op.holder), (open.get(key(op.waiter, op.holder)) ?? 0) + 1);
              }
            } else if (op.kind === 'remove') {
              graph.removeWait(op.waiter, op.holder);
              const left = (open.get(key(op.waiter, op.holder)) ?? 0) - 1;
              if (left > 0) open.set(key(op.waiter, op.holder), left);
              else open.delete(key(op.waiter, op.holder));
            } else if (op.kind === 'removeNode') {
              graph.removeNode(op.id);
              for (const edge of [...open.keys()]) {
                const [waiter, holder] = edge.split('->');
                if (waiter === op.id || holder === op.id) open.delete(edge);
              }
            }
            const edges = graph.edges();
            expect(sorted(edges)).toEqual([...open.keys()].sort());
            expect(graph.edgeCount).toBe(open.size);
            expect(edges.every(([waiter, holder]) => graph.has(waiter, holder))).toBe(true);
            // Both indexes agree with the edge list, node by node.
            const indexed = nodes.map((id) => [sorted(graph.waitsOf(id).map((holder) => [id, holder] as const)), sorted(graph.waitersOf(id).map((waiter) => [waiter, id] as const))]);
            const expected = nodes.map((id) => [sorted(edges.filter(([waiter]) => waiter === id)), sorted(edges.filter(([, holder]) => holder === id))]);
            expect(indexed).toEqual(expected);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('accepts every edge of an acyclic graph, in any order of arrival', () => {
      // An acyclic graph: edges only from earlier to later in a random ranking of the nodes.
      const acyclic = fc
        .tuple(
          fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { minLength: 8 }),
          fc.array(fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 7 })), { maxLength: 30 }),
        )
        .map(([rank, pairs]) =>
          pairs
            .filter(([from, to]) => from !== to)
            .map(([from, to]) => [rank[Math.min(from, to)], rank[Math.max(from, to)]] as const),
        );
      fc.assert(
        fc.property(acyclic, (edges) => {
          const graph = new WaitForGraph();
          for (const [waiter, holder] of edges) expect(graph.addWait(waiter, holder)).toBeUndefined();
        }),
        { numRuns: 300 },
      );
    });
  });
});
