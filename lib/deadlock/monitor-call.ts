import { ambientContext, type AmbientContext, type RunningTurn } from '../cancellation/current-token';
import { slot } from '../runtime';
import { callKey as keyOfCall, threadOfCall as threadOfKey } from '../threads/call-key';

/**
 * A call to a monitor, seen from the thread the monitor lives on: a node of the wait-for graph.
 *
 * It exists from the moment the call reaches its monitor (queued or started at once) until it
 * settles. While it runs it is a turn: it holds the monitor, and every monitor call it makes
 * that has not settled yet is one of its waits (`outgoing`). While it is queued it waits for the
 * turns running on its monitor. Those two kinds of edge are the whole graph; each lives on the
 * thread where it is born, and {@link DeadlockDetector} walks them across threads.
 */
export class MonitorCall implements RunningTurn {
  state: 'queued' | 'running' | 'ended' = 'queued';
  /** When it was queued (ms, comparable across threads): the last to wait is the one rejected. */
  queuedAt = 0;
  /**
   * Waits of this turn that end by themselves (a `sleep`): while one runs, the turn will resume
   * whatever its calls do, so it is not blocked and no cycle through it is a deadlock yet.
   */
  liveWaits = 0;
  /** Takes a queued call out of its queue, rejecting it with `error`. */
  withdraw: ((error: Error) => void) | undefined = undefined;
  /** Whether the thread's detector finds it by id: calls from other threads, and queued calls. */
  listed = false;
  /** The monitor of the turn that made it on another thread, as `Class#id` (`caller` names a local one). */
  callerMonitor: string | undefined = undefined;
  #chain: readonly number[] | undefined;
  #outgoing: Map<number, OutgoingCall> | undefined;

  constructor(
    /** Unique in the process: the calling thread's id and its call counter. */
    readonly id: number,
    readonly monitor: CalledMonitor,
    /** The method's name in messages. */
    readonly method: string,
    /** The turn on this thread that made the call and waits for it, if any. */
    readonly caller: MonitorCall | undefined,
    /** Ids of the turns this call was made from, outermost first. */
    readonly callerChain: readonly number[] | undefined,
  ) {}

  /** Ids of the turns this call was made from, outermost first, and its own last; made when first asked. */
  get chain(): readonly number[] {
    return (this.#chain ??= this.callerChain === undefined ? [this.id] : [...this.callerChain, this.id]);
  }

  /** Monitor calls this turn made that have not settled, by call id: it waits for each of them. */
  get outgoing(): ReadonlyMap<number, OutgoingCall> {
    return this.#outgoing ?? NO_CALLS;
  }

  waitFor(id: number, call: OutgoingCall): void {
    (this.#outgoing ??= new Map()).set(id, call);
  }

  stopWaitingFor(id: number): void {
    this.#outgoing?.delete(id);
  }
}

const NO_CALLS: ReadonlyMap<number, OutgoingCall> = new Map();

/** A call a turn waits for, on whichever thread its monitor lives. */
export interface OutgoingCall {
  readonly thread: number;
  /** The called monitor, as `Class#id`. */
  readonly monitor: string;
  readonly method: string;
  /** The call itself, when it is on this thread. */
  readonly call?: MonitorCall;
}

/** What the graph needs of a monitor: who runs in it and who waits for it. */
export interface CalledMonitor {
  /** `Class#id`. */
  readonly label: string;
  /** The turns inside it now: one, or several of one call chain when it is reentrant. */
  readonly running: Iterable<MonitorCall>;
  /** Calls waiting for it, first come first. */
  readonly queued: ReadonlySet<MonitorCall>;
}

/** This thread's count of monitor calls, local ones and those to other threads alike. */
class CallNumbers {
  #next = 1;

  take(): number {
    return this.#next++;
  }
}

const callNumbers = slot('call numbers', () => new CallNumbers());

/** The number of a new monitor call made on this thread, unique here: with the thread's id, its {@link callKey}. */
export function newCallNumber(): number {
  return callNumbers().take();
}

/**
 * The monitor call in `context`, whole: only turns put a call in the ambient context (local-monitor.ts),
 * and what they put there is a MonitorCall, which the layer below knows only as a {@link RunningTurn}.
 */
export function callOf(context: AmbientContext | undefined): MonitorCall | undefined {
  return context?.call as MonitorCall | undefined;
}

/** The monitor call whose turn runs now, if any. */
export function currentCall(): MonitorCall | undefined {
  return callOf(ambientContext());
}

/**
 * Calls are named by their key (`callKey`), which the router uses too, so it lives below both.
 * Passed on as constants, not `export ... from`: CommonJS output makes that a getter, which turns
 * this module's exports into a dictionary that every monitor call would look up slowly.
 */
export const callKey = keyOfCall;
export const threadOfCall = threadOfKey;
