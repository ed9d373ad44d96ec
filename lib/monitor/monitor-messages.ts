import { deadlockDetector } from '../deadlock/wait-tracking';
import { MessageKind, type CallMessage, type CallResultMessage, type DeadlockProbeMessage, type DeadlockVerdictMessage, type StreamEventMessage, type SubscribeMessage, type UnsubscribeMessage } from '../threads/protocol';
import { serveCall, serveSubscribe, serveUnsubscribe } from './exported-monitors';
import { settleCall, settleStreamEvent } from './remote-monitor';

/** The messages every thread handles the same way: monitor calls and streams, and deadlock probes. */
export type MonitorMessage = CallMessage | CallResultMessage | SubscribeMessage | StreamEventMessage | UnsubscribeMessage | DeadlockProbeMessage | DeadlockVerdictMessage;

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
    default:
      return false;
  }
}
