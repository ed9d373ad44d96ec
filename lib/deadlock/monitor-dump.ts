import { slot, thisThread } from '../runtime';
import { liveMonitors } from '../monitor/live-monitors';
import { MessageKind } from '../threads/protocol';
import { router, transportStarted } from '../threads/transport';
import type { MonitorState, TurnState } from '../threads/wire-types';
import type { MonitorCall } from './monitor-call';

export type { MonitorState, TurnState, QueuedCallState } from '../threads/wire-types';

/**
 * A thread dump for monitors: every live monitor of every thread, the turns running in it, the
 * calls queued for it, and what each turn waits for.
 */

/**
 * What {@link dumpMonitors} returns: the monitors as data, and as text with `String(dump)`.
 *
 * @example
 * ```ts
 * const dump = await dumpMonitors();
 * console.log(String(dump));
 * const busy = dump.monitors.filter((monitor) => monitor.queued.length > 0);
 * ```
 */
export class MonitorDump {
  // Private, so that the published declarations say so: dumps come from dumpMonitors(), which makes them through `of`.
  private constructor(
    /** Every live monitor, thread by thread. */
    readonly monitors: readonly MonitorState[],
    /** Threads that did not answer within the time limit (busy in synchronous code): their monitors are missing. */
    readonly silentThreads: readonly string[],
    /**
     * Work this thread still runs that nobody waits for any more: a local branch child
     * (`children.addLocal`) abandoned after it ignored its cancellation and its grace.
     */
    readonly abandoned: readonly string[] = [],
  ) {
    Object.freeze(this);
  }

  /** @internal What {@link dumpMonitors} gives. */
  static of(monitors: readonly MonitorState[], silentThreads: readonly string[], abandoned: readonly string[]): MonitorDump {
    return new MonitorDump(monitors, silentThreads, abandoned);
  }

  /** The dump as text, one paragraph per monitor, like a thread dump. */
  toString(): string {
    const lines = [`safethread monitors: ${this.monitors.length}`];
    for (const state of this.monitors) {
      const held = state.running.length === 0 ? 'free' : `held by ${state.running.map((turn) => `${turn.method} (call ${turn.call})`).join(', ')}`;
      lines.push(`${state.monitor} on ${state.thread}: ${held}`);
      for (const turn of state.running) {
        if (turn.sleeping) lines.push(`  ${turn.method} is sleeping`);
        for (const wait of turn.waitsFor) lines.push(`  ${turn.method} waits for ${wait}`);
      }
      for (const call of state.queued) lines.push(`  queued: ${call.method} (call ${call.call})`);
    }
    for (const thread of this.silentThreads) lines.push(`${thread} did not answer (busy in synchronous code?)`);
    for (const work of this.abandoned) lines.push(`abandoned: ${work}`);
    return lines.join('\n');
  }
}

/** How long `dumpMonitors()` waits for a worker to answer. */
const ANSWER_WITHIN_MS = 1000;

/**
 * Shows every monitor of the process: where it lives, which turn holds it, which calls queue
 * for it, and what each turn waits for, like a JVM thread dump. Called on the main thread it
 * asks every worker; on a worker it shows that worker's monitors. A worker stuck in synchronous
 * code cannot answer; it is listed in `silentThreads` after a second.
 *
 * A channel's `get()` or `put()` that waits shows as a turn of its channel waiting for a value
 * (or room), with how long it has waited and why it may never end (nothing was ever put, or who
 * puts is unknown). Local branch children abandoned after their grace are listed in `abandoned`
 * (those of the thread that calls it).
 *
 * To print it on demand from outside, e.g. with `kill -USR2 <pid>`:
 *
 * @example
 * ```ts
 * process.on('SIGUSR2', () => {
 *   void dumpMonitors().then((dump) => console.error(String(dump)));
 * });
 * ```
 */
export async function dumpMonitors(): Promise<MonitorDump> {
  const here = describeMonitors();
  const abandoned = lingeringWork().describe();
  if (thisThread().id !== 0 || !transportStarted()) return MonitorDump.of(here, [], abandoned);
  const links = router();
  const answers = await Promise.all(
    links.threads().map(
      (thread) =>
        new Promise<{ readonly thread: number; readonly monitors: readonly MonitorState[] | undefined }>((resolve) => {
          const requests = dumpRequests();
          const requestId = requests.newId();
          const timer = setTimeout(() => {
            requests.forget(requestId);
            resolve({ thread, monitors: undefined });
          }, ANSWER_WITHIN_MS);
          requests.wait(requestId, (monitors) => {
            clearTimeout(timer);
            requests.forget(requestId);
            resolve({ thread, monitors });
          });
          links.send(thread, { kind: MessageKind.DumpMonitors, requestId });
        }),
    ),
  );
  const monitors = [...here, ...answers.flatMap((answer) => answer.monitors ?? [])];
  const silent = answers.filter((answer) => answer.monitors === undefined).map((answer) => `thread ${answer.thread}`);
  return MonitorDump.of(monitors, silent, abandoned);
}

/** Main thread: a worker answered a `dumpMonitors()` request. */
export function answerDump(requestId: number, monitors: readonly MonitorState[]): void {
  dumpRequests().answer(requestId, monitors);
}

/** `dumpMonitors()` requests waiting for workers' answers (main thread only), by request id. */
class DumpRequests {
  readonly #waiting = new Map<number, (monitors: readonly MonitorState[]) => void>();
  #nextId = 1;

  newId(): number {
    return this.#nextId++;
  }

  wait(requestId: number, answer: (monitors: readonly MonitorState[]) => void): void {
    this.#waiting.set(requestId, answer);
  }

  answer(requestId: number, monitors: readonly MonitorState[]): void {
    this.#waiting.get(requestId)?.(monitors);
  }

  forget(requestId: number): void {
    this.#waiting.delete(requestId);
  }
}

const dumpRequests = slot('monitor dump requests', () => new DumpRequests());

/** This thread's monitors, as data that can travel. */
export function describeMonitors(): MonitorState[] {
  const states: MonitorState[] = [];
  for (const monitor of liveMonitors()) {
    states.push({
      monitor: monitor.label,
      thread: thisThread().name,
      running: [...monitor.running].map(describeTurn),
      queued: [...monitor.queued].map((call) => ({ method: call.method, call: call.id })),
    });
  }
  return states;
}

function describeTurn(turn: MonitorCall): TurnState {
  const calls = [...turn.outgoing].map(([id, wait]) => `${wait.monitor}.${wait.method} (call ${id}, ${wait.thread === 0 ? 'main' : `thread ${wait.thread}`})`);
  const other = otherWaits().describe(turn);
  return {
    method: turn.method,
    call: turn.id,
    waitsFor: other === undefined ? calls : [other, ...calls],
    sleeping: turn.liveWaits > 0,
  };
}

/**
 * Waits a turn makes that are not monitor calls (a channel's `get` waiting for a value), each
 * described by the module that makes it, so the dump can say what the turn waits for. A wait is
 * held strongly while it lasts: the dump shows it even when nobody references its channel.
 */
class OtherWaits {
  readonly #waits = new Map<MonitorCall, () => string>();

  add(turn: MonitorCall, describe: () => string): void {
    this.#waits.set(turn, describe);
  }

  delete(turn: MonitorCall): void {
    this.#waits.delete(turn);
  }

  describe(turn: MonitorCall): string | undefined {
    return this.#waits.get(turn)?.();
  }
}

/** This thread's waits that are not monitor calls, by the turn that waits. */
export const otherWaits = slot('waits other than monitor calls', () => new OtherWaits());

/** Work this thread runs on that nobody waits for (an abandoned local child), each described by its owner. */
class LingeringWork {
  readonly #work = new Set<() => string>();

  /** Adds work; the function returned removes it. */
  add(describe: () => string): () => void {
    this.#work.add(describe);
    return () => this.#work.delete(describe);
  }

  describe(): string[] {
    return [...this.#work].map((describe) => describe());
  }
}

/** This thread's abandoned work, for the dump. */
export const lingeringWork = slot('lingering work', () => new LingeringWork());
