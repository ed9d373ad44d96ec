import { deadlockDetector } from '../deadlock/wait-tracking';
import { ignoreStray } from '../threads/batched-port';
import {
  MessageKind,
  type CallMessage,
  type CallResultMessage,
  type CloseMonitorMessage,
  type DeadlockProbeMessage,
  type DeadlockVerdictMessage,
  type ReleaseMessage,
  type StreamEventMessage,
  type SubscribeMessage,
  type ThreadGoneMessage,
  type UnsubscribeMessage,
} from '../threads/protocol';
import { receiveRelease, releaseHeldBy, serveCall, serveCloseMonitor, serveSubscribe, serveUnsubscribe, stopStreamsOf } from './exported-monitors';
import { liveMonitors } from './live-monitors';
import { settleCall, settleStreamEvent } from './remote-monitor';

/**
 * What every thread, main or worker, does with the messages of monitors: calls to its monitors
 * and their streams, the answers to its own calls and subscriptions, the wait-for graph's probes,
 * another thread's end, and the release or close of an exported monitor. Each thread's dispatcher hands these kinds here, so they are handled
 * the same way on every thread. Those that carry `from` carry their sender's own id (the main thread
 * passes on none in another thread's name), and each is acted on only as far as that sender is
 * entitled: its own calls' results, markers it holds, its own probes' verdicts.
 */
export type MonitorMessage =
  | CallMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | CallResultMessage
  | StreamEventMessage
  | DeadlockProbeMessage
  | DeadlockVerdictMessage
  | ThreadGoneMessage
  | ReleaseMessage
  | CloseMonitorMessage;

export function receiveMonitorMessage(message: MonitorMessage): void {
  switch (message.kind) {
    // Calls to this thread's monitors, and their streams.
    case MessageKind.Call:
      serveCall(message);
      break;
    case MessageKind.Subscribe:
      serveSubscribe(message);
      break;
    case MessageKind.Unsubscribe:
      serveUnsubscribe(message);
      break;
    // What this thread's own calls and subscriptions receive.
    case MessageKind.CallResult:
      settleCall(message);
      break;
    case MessageKind.StreamEvent:
      settleStreamEvent(message);
      break;
    // The wait-for graph, across threads.
    case MessageKind.DeadlockProbe:
      if (deadlockDetector().mayProbe(message)) deadlockDetector().receive(message);
      else ignoreStray(`thread ${String(message.from)}`, message, `a deadlock-probe for call ${String(message.call)}, which it did not make`);
      break;
    case MessageKind.DeadlockVerdict:
      if (!deadlockDetector().receive(message)) ignoreStray(`thread ${String(message.from)}`, message, `a deadlock-verdict for call ${String(message.call)}, which no probe of its own found in a cycle`);
      break;
    // Another thread ended: the calls it made here are dropped, and the references it held let go.
    case MessageKind.ThreadGone:
      dropCallsFrom(message.thread, message.why);
      releaseHeldBy(message.thread);
      break;
    // Holders letting go of an exported monitor, or closing it: here, or passed on to its thread.
    case MessageKind.Release:
      receiveRelease(message);
      break;
    case MessageKind.CloseMonitor:
      serveCloseMonitor(message);
      break;
    default: {
      const unreachable: never = message;
      void unreachable;
    }
  }
}

/**
 * A thread ended: the calls it made to this thread's monitors that still wait (queued, or in a
 * channel wait) are taken back, so that they neither hold a place in a queue nor take a value
 * that nobody would receive, and the streams it subscribed to stop at their producers here.
 */
export function dropCallsFrom(thread: number, why: string): void {
  for (const monitor of liveMonitors()) monitor.dropCallsFrom(thread, why);
  stopStreamsOf(thread);
}
