/**
 * The wait-for graph of deadlock detection: who waits for whom, kept free of cycles.
 *
 * A node is an opaque id of a waiting party (a call or a turn); an edge `waiter -> holder` says
 * the waiter cannot go on until the holder has. The graph refuses the one edge that would close a
 * cycle and hands back that cycle instead, so it is acyclic at all times and the party that waited
 * last is the one that learns of the deadlock (PostgreSQL's "the last to wait detects"): its wait
 * is rejected, every other wait stays and can complete once the rejected party gives up.
 *
 * The graph knows nothing of threads or monitors; whoever feeds it decides what a node is and
 * attaches a description to each (for instance a `DeadlockStep`) to build the error message.
 *
 * Costs, with V and E the nodes and edges reachable from `holder`:
 * - `addWait` is O(V + E): one breadth-first search from the holder looking for the waiter.
 *   Since the graph never holds a cycle, only a new edge can close one, so nothing else needs
 *   to be searched, ever.
 * - `removeWait`, `has` and `describe` are O(1); `removeNode` is O(degree of the node);
 *   `waitsOf`, `waitersOf` and `edges` are linear in what they return.
 */
export class WaitForGraph<D = string> {
  /**
   * Out-edges: waiter -> holder -> how many waits of that waiter on that holder are open. The
   * same pair can wait twice (two calls of one turn queued behind the same holder); counting
   * keeps the edge until the last of those waits ends, so one ending cannot hide the other.
   */
  readonly #holders = new Map<string, Map<string, number>>();
  /** In-edges, the reverse index, so that `removeNode` need not scan the whole graph. */
  readonly #waiters = new Map<string, Set<string>>();
  readonly #descriptions = new Map<string, D>();
  #edgeCount = 0;

  /** How many distinct `waiter -> holder` edges the graph holds. */
  get edgeCount(): number {
    return this.#edgeCount;
  }

  /**
   * Records that `waiter` waits for `holder`, unless that would close a cycle.
   *
   * A waiter may wait for several holders at once (all count). Adding an edge that is already
   * there counts one more wait on it; `removeWait` must then be called as many times.
   *
   * @returns `undefined` when the wait was added. When it would close a cycle, the wait is NOT
   * added and the cycle is returned instead: node ids starting with `waiter`, then `holder`, each
   * waiting for the next and the last waiting for `waiter` (a self-wait gives `[waiter]`). Among
   * several cycles, it is one of the shortest.
   *
   * @example
   * ```ts
   * const graph = new WaitForGraph();
   * graph.addWait('ping.start', 'pong.back'); // undefined: added
   * graph.addWait('pong.back', 'ping.start'); // ['pong.back', 'ping.start']: refused
   * ```
   */
  addWait(waiter: string, holder: string): readonly string[] | undefined {
    const path = this.#path(holder, waiter);
    if (path !== undefined) {
      // path runs holder -> ... -> waiter; the cycle starts at the waiter and stops before it again.
      path.pop();
      path.unshift(waiter);
      return Object.freeze(path);
    }
    let holders = this.#holders.get(waiter);
    if (holders === undefined) this.#holders.set(waiter, (holders = new Map()));
    const count = holders.get(holder) ?? 0;
    holders.set(holder, count + 1);
    if (count === 0) {
      let waiters = this.#waiters.get(holder);
      if (waiters === undefined) this.#waiters.set(holder, (waiters = new Set()));
      waiters.add(waiter);
      this.#edgeCount++;
    }
    return undefined;
  }

  /**
   * Ends one wait of `waiter` on `holder`; the edge goes when its last wait ends.
   *
   * Removing a wait that is not there (one that `addWait` refused, or already removed) does
   * nothing, so a `finally` may end a wait whether or not it was accepted.
   */
  removeWait(waiter: string, holder: string): void {
    const holders = this.#holders.get(waiter);
    const count = holders?.get(holder);
    if (holders === undefined || count === undefined) return;
    if (count > 1) {
      holders.set(holder, count - 1);
      return;
    }
    holders.delete(holder);
    if (holders.size === 0) this.#holders.delete(waiter);
    this.#unlinkWaiter(holder, waiter);
    this.#edgeCount--;
  }

  /** Forgets a party: every edge from or to it, whatever its count, and its description. */
  removeNode(id: string): void {
    const holders = this.#holders.get(id);
    if (holders !== undefined) {
      for (const holder of holders.keys()) this.#unlinkWaiter(holder, id);
      this.#edgeCount -= holders.size;
      this.#holders.delete(id);
    }
    const waiters = this.#waiters.get(id);
    if (waiters !== undefined) {
      for (const waiter of waiters) {
        const ofWaiter = this.#holders.get(waiter) as Map<string, number>;
        ofWaiter.delete(id);
        if (ofWaiter.size === 0) this.#holders.delete(waiter);
      }
      this.#edgeCount -= waiters.size;
      this.#waiters.delete(id);
    }
    this.#descriptions.delete(id);
  }

  /** Whether `waiter` waits for `holder` now. */
  has(waiter: string, holder: string): boolean {
    return this.#holders.get(waiter)?.has(holder) ?? false;
  }

  /** The parties `id` waits for, in the order its waits began. */
  waitsOf(id: string): readonly string[] {
    return Object.freeze([...(this.#holders.get(id)?.keys() ?? [])]);
  }

  /** The parties waiting for `id`, in the order their waits began. */
  waitersOf(id: string): readonly string[] {
    return Object.freeze([...(this.#waiters.get(id) ?? [])]);
  }

  /** Every distinct edge as `[waiter, holder]`, for a dump. */
  edges(): readonly (readonly [waiter: string, holder: string])[] {
    const edges: (readonly [string, string])[] = [];
    for (const [waiter, holders] of this.#holders) {
      for (const holder of holders.keys()) edges.push(Object.freeze([waiter, holder] as const));
    }
    return Object.freeze(edges);
  }

  /** Attaches what a message should say about `id`, replacing any earlier description; kept until `removeNode(id)`. */
  describe(id: string, description: D): void {
    this.#descriptions.set(id, description);
  }

  /** The description of `id`, or `undefined` if it has none. */
  descriptionOf(id: string): D | undefined {
    return this.#descriptions.get(id);
  }

  #unlinkWaiter(holder: string, waiter: string): void {
    const waiters = this.#waiters.get(holder) as Set<string>;
    waiters.delete(waiter);
    if (waiters.size === 0) this.#waiters.delete(holder);
  }

  /**
   * A shortest path `from -> ... -> to` along wait edges (`[from]` when they are the same), or
   * `undefined` if there is none. Breadth-first and iterative, so a long chain of waits cannot
   * overflow the stack, and the cycle it yields is as short as the message can be.
   */
  #path(from: string, to: string): string[] | undefined {
    if (from === to) return [from];
    const cameFrom = new Map<string, string>([[from, from]]);
    const queue = [from];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head] as string;
      for (const next of this.#holders.get(node)?.keys() ?? []) {
        if (cameFrom.has(next)) continue;
        cameFrom.set(next, node);
        if (next === to) {
          const path = [to];
          for (let step = node; step !== from; step = cameFrom.get(step) as string) path.push(step);
          path.push(from);
          return path.reverse();
        }
        queue.push(next);
      }
    }
    return undefined;
  }
}
