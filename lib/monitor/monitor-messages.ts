import { deadlockDetector } from '../deadlock/wait-tracking';
import { runtime } from '../runtime';
import { threadOfCall } from '../deadlock/monitor-call';
import { MessageKind, type CallMessage, type CallResultMessage, type DeadlockProbeMessage, type DeadlockVerdictMessage, type StreamEventMessage, type ThreadGoneMessage, type SubscribeMessage, type UnsubscribeMessage } from '../threads/protocol';
import { serveCall, serveSubscribe, serveUnsubscribe } from './exported-monitors';
import { settleCall, settleStreamEvent } from './remote-monitor';

/** The messages every thread handles the same way: monitor calls and streams, and deadlock probes. */
export type MonitorMessage =
  | CallMessage
  | CallResultMessage
  | SubscribeMessage
  | StreamEventMessage
  | UnsubscribeMessage
  | DeadlockProbeMessage
  | DeadlockVerdictMessage
  | ThreadGoneMessage;

/** Handles a monitor message that arrived for this thread; `false` when the message is of another kind. */
export function receiveMonitorMessage(message: { readonly kind: string }): boolean {
  const monitorMessage = message as MonitorMessage;
  switch (monitorMessage.kind) {
    case MessageKind.Call:
      serveCall(monitorMessage);
      return true;
    case MessageKind.CallResult:
      settleCall(monitorMessage);
      return true;
    case MessageKind.Subscribe:
      serveSubscribe(monitorMessage);
      return true;
    case MessageKind.StreamEvent:
      settleStreamEvent(monitorMessage);
      return true;
    case MessageKind.Unsubscribe:
      serveUnsubscribe(monitorMessage);
      return true;
    case MessageKind.DeadlockProbe:
    case MessageKind.DeadlockVerdict:
      deadlockDetector().receive(monitorMessage);
      return true;
    case MessageKind.ThreadGone:
      dropCallsFrom(monitorMessage.thread, monitorMessage.why);
      return true;
    default:
      return false;
  }
}

/**
 * A thread ended: the calls it made to this thread's monitors that still wait (queued, or in a
 * channel wait) are taken back, so that they neither hold a place in a queue nor take a value
 * that nobody would receive, and the streams it subscribed to stop at their producers here.
 */
export function dropCallsFrom(thread: number, why: string): void {
  for (const ref of runtime.liveMonitors) ref.deref()?.dropCallsFrom(thread, why);
  for (const [key, stop] of runtime.servedStreams) {
    if (threadOfCall(key) !== thread) continue;
    runtime.servedStreams.delete(key);
    stop();
  }
}
