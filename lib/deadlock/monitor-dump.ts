import { runtime } from '../runtime';
import { MessageKind } from '../threads/protocol';
import { router } from '../threads/transport';
import type { MonitorCall } from './monitor-call';

/**
 * A thread dump for monitors: every live monitor of every thread, the turns running in it, the
 * calls queued for it, and what each turn waits for.
 */

/**
 * One monitor in a {@link MonitorDump}.
 *
 * @example
 * ```ts
 * const busy = (await dumpMonitors()).monitors.filter((state) => state.queued.length > 0).map((state) => state.monitor);
 * ```
 */
export interface MonitorState {
  /** `Class#id`. */
  readonly monitor: string;
  /** The thread it lives on. */
  readonly thread: string;
  /** The turns inside it (one, or several of one chain when it is reentrant); empty when it is free. */
  readonly running: readonly TurnState[];
  /** The calls waiting for it, first come first. */
  readonly queued: readonly QueuedCallState[];
}

/**
 * A turn running in a monitor.
 *
 * @example
 * ```ts
 * for (const turn of state.running) console.log(`${turn.method} waits for ${turn.waitsFor.join(', ') || 'nothing'}`);
 * ```
 */
export interface TurnState {
  readonly method: string;
  /** The call's id, unique in the process; `waitsFor` of other turns names calls by it. */
  readonly call: number;
  /** The monitor calls it waits for, as `Class#id.method (call N, thread)`. */
  readonly waitsFor: readonly string[];
  /** Whether it is in a `sleep`, and so will resume by itself. */
  readonly sleeping: boolean;
}

/**
 * A call queued for a monitor.
 *
 * @example
 * ```ts
 * const waiting = state.queued.map((call) => call.method); // ['deposit', 'balance']
 * ```
 */
export interface QueuedCallState {
  readonly method: string;
  readonly call: number;
}

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
  /** @internal Dumps come from {@link dumpMonitors}. */
  constructor(
    /** Every live monitor, thread by thread. */
    readonly monitors: readonly MonitorState[],
    /** Threads that did not answer within the time limit (busy in synchronous code): their monitors are missing. */
    readonly silentThreads: readonly string[],
  ) {
    Object.freeze(this);
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
  if (runtime.threadId !== 0 || runtime.transport === undefined) return new MonitorDump(here, []);
  const links = router();
  const answers = await Promise.all(
    links.threads().map(
      (thread) =>
        new Promise<{ readonly thread: number; readonly monitors: readonly MonitorState[] | undefined }>((resolve) => {
          const requestId = runtime.nextDumpRequest++;
          const timer = setTimeout(() => {
            runtime.dumpRequests.delete(requestId);
            resolve({ thread, monitors: undefined });
          }, ANSWER_WITHIN_MS);
          runtime.dumpRequests.set(requestId, (monitors) => {
            clearTimeout(timer);
            runtime.dumpRequests.delete(requestId);
            resolve({ thread, monitors });
          });
          links.send(thread, { kind: MessageKind.DumpMonitors, requestId });
        }),
    ),
  );
  const monitors = [...here, ...answers.flatMap((answer) => answer.monitors ?? [])];
  const silent = answers.filter((answer) => answer.monitors === undefined).map((answer) => `thread ${answer.thread}`);
  return new MonitorDump(monitors, silent);
}

/** This thread's monitors, as data that can travel. */
export function describeMonitors(): MonitorState[] {
  const states: MonitorState[] = [];
  for (const ref of runtime.liveMonitors) {
    const monitor = ref.deref();
    if (monitor === undefined) continue;
    states.push({
      monitor: monitor.label,
      thread: runtime.threadName,
      running: [...monitor.running].map(describeTurn),
      queued: [...monitor.queued].map((call) => ({ method: call.method, call: call.id })),
    });
  }
  return states;
}

function describeTurn(turn: MonitorCall): TurnState {
  return {
    method: turn.method,
    call: turn.id,
    waitsFor: [...turn.outgoing].map(([id, wait]) => `${wait.monitor}.${wait.method} (call ${id}, ${wait.thread === 0 ? 'main' : `thread ${wait.thread}`})`),
    sleeping: turn.liveWaits > 0,
  };
}
