import { DeadlockError, describeCycle, type DeadlockStep } from '../errors/deadlock-error';
import { MessageKind, type DeadlockProbeMessage as Probe, type DeadlockVerdictMessage as Verdict } from '../threads/protocol';
import type { ProbePath, QueuedEntry } from '../threads/wire-types';
import { threadOfCall, type MonitorCall } from './monitor-call';

/**
 * Deadlock detection across threads: one wait-for graph whose edges stay on the threads where
 * they are born, walked by probes (Chandy, Misra and Haas's edge chasing).
 *
 * Only a queued call can close a cycle: a turn's other waits are calls it has just made, new
 * nodes with nothing behind them. So each time a call must queue, a probe starts from it: to the
 * turns running in its monitor, to the calls each of those awaits, to their monitors' turns, and
 * so on, hopping to another thread where a call went there. A probe that comes back to the call
 * it started from has found a cycle; a probe that reaches a call that settled, or a turn with a
 * live wait (a `sleep`), stops, as that part can still move. A cycle closes at once when its last
 * wait is made, so detection needs no timeout and raises no false alarm on waits that can end.
 *
 * Of the queued calls in a cycle, the one that queued last is rejected with
 * {@link DeadlockError} (PostgreSQL's "the last to wait detects"); the others proceed. Two
 * probes that find the same cycle at once pick the same call, and rejecting it twice does
 * nothing, so exactly one call fails.
 */
export class DeadlockDetector {
  /** Calls of this thread's monitors that probes and verdicts from elsewhere may name: calls from other threads, and queued calls. */
  readonly calls = new Map<number, MonitorCall>();
  /** The calls this thread started a probe from: only such a probe, come back, can say it found a cycle. */
  readonly #origins = new WeakSet<MonitorCall>();
  /**
   * For each call of this thread that a probe named as a candidate to reject, the probes that did:
   * origin call id, and the thread of that origin, which alone may send its verdict. A verdict for a
   * call no probe of that thread passed here is not that thread's to give.
   */
  readonly #candidates = new WeakMap<MonitorCall, Map<number, number>>();

  constructor(
    readonly threadId: number,
    readonly threadName: string,
    /** Sends a probe or a verdict to the detector of another thread. */
    readonly send: (to: number, message: Probe | Verdict) => void,
  ) {}

  /**
   * A call just queued behind its monitor's turns: look for a cycle through it. Looked at once
   * this turn of the event loop is over, when the turns it passes have reached their next wait:
   * a turn that makes a call and then starts a `sleep` to race it is not blocked on the call.
   */
  queued(call: MonitorCall): void {
    setImmediate(() => this.probe(call));
  }

  /** Sends a probe from a queued call now. */
  probe(call: MonitorCall): void {
    if (call.state !== 'queued') return;
    this.#origins.add(call);
    this.#at({ origin: call.id, steps: [], queued: [], visited: [] }, call);
  }

  /**
   * A running turn just started to wait for another call of the graph (a channel wait, which
   * waits for the turn on the channel's other side): look for a cycle through it, as for a
   * queued call. It can be rejected like one, through its `withdraw`.
   */
  waiting(turn: MonitorCall): void {
    setImmediate(() => {
      if (turn.state !== 'running' || turn.withdraw === undefined || turn.liveWaits > 0) return;
      this.#origins.add(turn);
      this.#visit({ origin: turn.id, steps: [], queued: [], visited: [] }, turn);
    });
  }

  /** Lets probes and verdicts from other threads find the call by its id. */
  list(call: MonitorCall): void {
    if (call.listed) return;
    call.listed = true;
    this.calls.set(call.id, call);
  }

  /**
   * A probe or a verdict from another thread arrived for one of this thread's calls. A verdict is
   * taken only from a thread whose own probe named that call here as a candidate (`from` is the
   * sender's own id: the main thread passes on nothing in another's name), so that no thread can
   * reject another's call without a cycle its probe walked through it. False for a verdict that
   * is not the sender's to give.
   */
  receive(message: Probe | Verdict): boolean {
    if (message.kind === MessageKind.DeadlockProbe) {
      this.follow(message.path, message.call);
      return true;
    }
    const call = this.calls.get(message.call);
    // A verdict for a call that ended meanwhile is late, not stray.
    if (call === undefined) return true;
    if (![...(this.#candidates.get(call)?.values() ?? [])].includes(message.from)) return false;
    this.#reject(message.call, message.cycle);
    return true;
  }

  /**
   * Whether thread `from` may send this probe: a call that a probe could name as a candidate to
   * reject (a queued call, or a turn in a channel wait) is waited for only by the thread that made
   * it, so only that thread probes it; a running turn (which a channel wait watches from any
   * thread) may be probed by any, as the probe only passes it on. Without this, any thread could
   * walk a made-up path through another's queued call.
   */
  mayProbe(message: Probe): boolean {
    const call = this.calls.get(message.call);
    if (call === undefined || (call.state === 'running' && call.withdraw === undefined)) return true;
    return threadOfCall(call.id) === message.from;
  }

  /** Follows the probe to the call `id` of this thread. */
  follow(path: ProbePath, id: number): void {
    const call = this.calls.get(id);
    if (call !== undefined) this.#at(path, call);
  }

  #at(path: ProbePath, call: MonitorCall): void {
    const { id } = call;
    if (call.state === 'ended') return;
    if (call.state === 'running') {
      if (id === path.origin && path.steps.length > 0) this.#found(path, call);
      else this.#visit(path, call);
      return;
    }
    if (path.queued.length > 0 && id === path.origin) {
      this.#found(path, call);
      return;
    }
    // A loop that does not pass through the origin is another probe's business.
    if (path.queued.some((entry) => entry.id === id)) return;
    this.#candidate(call, path);
    const next: ProbePath = {
      ...path,
      queued: [...path.queued, { id, thread: this.threadId, at: call.queuedAt, step: path.steps.length }],
    };
    for (const turn of call.monitor.running) this.#visit(next, turn);
  }

  /** A running turn: the probe goes on to every call it waits for, unless it can still resume by itself. */
  #visit(path: ProbePath, turn: MonitorCall): void {
    if (turn.liveWaits > 0 || path.visited.includes(turn.id)) return;
    // Back at the waiting turn a probe started from: the cycle closes through it.
    if (path.steps.length > 0 && turn.id === path.origin) {
      this.#found(path, turn);
      return;
    }
    // A turn in a channel wait can be rejected like a queued call: it is a candidate too.
    if (turn.withdraw !== undefined && !path.queued.some((entry) => entry.id === turn.id)) {
      this.#candidate(turn, path);
      path = { ...path, queued: [...path.queued, { id: turn.id, thread: this.threadId, at: turn.queuedAt, step: path.steps.length }] };
    }
    for (const [id, outgoing] of turn.outgoing) {
      const step: DeadlockStep = { monitor: turn.monitor.label, method: turn.method, thread: this.threadName, waitsFor: outgoing.monitor };
      const next: ProbePath = { ...path, steps: [...path.steps, step], visited: [...path.visited, turn.id] };
      if (outgoing.call !== undefined) this.#at(next, outgoing.call);
      else if (outgoing.thread === this.threadId) this.follow(next, id);
      else this.send(outgoing.thread, { kind: MessageKind.DeadlockProbe, to: outgoing.thread, from: this.threadId, call: id, path: next });
    }
  }

  /**
   * Notes that a probe names `call` as a candidate to reject: the thread of its origin is the first
   * candidate's (the origin itself, or this thread when `call` is the origin).
   */
  #candidate(call: MonitorCall, path: ProbePath): void {
    let probes = this.#candidates.get(call);
    if (probes === undefined) this.#candidates.set(call, (probes = new Map()));
    probes.set(path.origin, path.queued[0]?.thread ?? this.threadId);
  }

  /**
   * A cycle: the call that queued last is rejected, its cycle told starting at its monitor's holder.
   * Only a probe this thread started can close a cycle here: a probe made up elsewhere, come "back"
   * to a call it never left from, or without the origin's own first entry (whose queueing time only
   * the real probe carries), is ignored; and a call of this thread is rejected only if this probe
   * named it here.
   */
  #found(path: ProbePath, origin: MonitorCall): void {
    const first = path.queued[0];
    if (first === undefined || !this.#origins.has(origin)) return;
    // The origin's own entry, made here when the probe started: its time is known only to the probe's path.
    if (first.id !== origin.id || first.thread !== this.threadId || first.at !== origin.queuedAt) return;
    let victim = path.queued[0] as QueuedEntry;
    for (const entry of path.queued) {
      if (entry.at > victim.at || (entry.at === victim.at && entry.id > victim.id)) victim = entry;
    }
    const cycle = [...path.steps.slice(victim.step), ...path.steps.slice(0, victim.step)];
    if (victim.thread !== this.threadId) {
      this.send(victim.thread, { kind: MessageKind.DeadlockVerdict, to: victim.thread, from: this.threadId, call: victim.id, cycle });
      return;
    }
    const call = this.calls.get(victim.id);
    if (call !== undefined && this.#candidates.get(call)?.has(path.origin) === true) this.#reject(victim.id, cycle);
  }

  #reject(id: number, cycle: readonly DeadlockStep[]): void {
    const call = this.calls.get(id);
    // Already rejected by another probe of the same cycle, or no longer waiting.
    if (call === undefined || call.withdraw === undefined) return;
    const last = cycle[cycle.length - 1] as DeadlockStep;
    call.withdraw(new DeadlockError(cycle, describeCycle(cycle), `${call.monitor.label}.${call.method} (called by ${last.monitor}.${last.method})`));
  }
}
