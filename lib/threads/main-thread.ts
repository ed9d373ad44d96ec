import { answerDump } from '../deadlock/monitor-dump';
import { receiveMonitorMessage } from '../monitor/monitor-messages';
import { closeActorFor } from './actor-threads';
import { ignoreStray } from './batched-port';
import { childRequests, currentChildRunner } from './child-runner';
import { ThreadPool } from './pool';
import { MessageKind } from './protocol';
import { Router, type MainThreadMessage } from './router';
import { startMainThreadWith } from './transport';
import { actorConstructed, serveSpawn } from './spawn';

/**
 * The main thread's start-up: what it does with every message that reaches it, whoever sent it.
 *
 * Installing it (lib/index.ts does) only leaves word with the transport of how to start: the router
 * starts with this dispatcher when the main thread first sends, which is when its first worker
 * starts, so importing safethread starts nothing.
 */

/** Leaves the main thread's start-up with its transport (threads/transport.ts), to run when first needed. */
export function installMainThread(): void {
  startMainThreadWith(() => new Router(receive));
}

/**
 * Every message for the main thread itself, by kind; `from` is the thread it came from. The router
 * passes on only what `from` is entitled to send (threads/router.ts): messages in its own name, a
 * job-blocked for a job it runs or serves, a monitors-dumped answering the request sent to it.
 */
function receive(message: MainThreadMessage, from: number): void {
  switch (message.kind) {
    // Monitors' messages: handled alike on every thread (monitor/monitor-messages.ts).
    case MessageKind.Call:
    case MessageKind.Subscribe:
    case MessageKind.Unsubscribe:
    case MessageKind.CallResult:
    case MessageKind.StreamEvent:
    case MessageKind.DeadlockProbe:
    case MessageKind.DeadlockVerdict:
    case MessageKind.ThreadGone:
    case MessageKind.Release:
    case MessageKind.CloseMonitor:
      receiveMonitorMessage(message);
      break;
    // The pool's threads.
    case MessageKind.TaskSettled:
      threadPool()?.taskSettled(from, message);
      break;
    case MessageKind.Hosting:
      threadPool()?.hosting(from);
      break;
    case MessageKind.HostingEnded:
      threadPool()?.hostingEnded(from);
      break;
    case MessageKind.JobBlocked:
      currentChildRunner()?.blocked(message.job, message.delta);
      break;
    // Branches on workers, whose children the pool runs.
    case MessageKind.RunChild:
    case MessageKind.TerminateChild:
      childRequests().serve(from, message);
      break;
    // Actors, which only the main thread starts and ends.
    case MessageKind.Spawn:
      serveSpawn(from, message);
      break;
    case MessageKind.Spawned:
      actorConstructed(from, message);
      break;
    case MessageKind.CloseActor:
      closeActorFor(from, message.thread);
      break;
    // `dumpMonitors()`: a worker's answer.
    case MessageKind.MonitorsDumped:
      answerDump(message.requestId, message.monitors);
      break;
    default: {
      // A kind for workers only: a worker's code posted it on its parentPort, or it runs another safethread.
      const unreachable: never = message;
      ignoreStray(threadName(from), unreachable);
    }
  }
}

/** How a warning names the worker a message came from. */
function threadName(threadId: number): string {
  return `thread ${threadId}`;
}

/** The pool, when there is one now: a message from a thread of an earlier pool (before `shutdown()`) finds none of its threads. */
function threadPool(): ThreadPool | undefined {
  const runner = currentChildRunner();
  return runner instanceof ThreadPool ? runner : undefined;
}
