/**
 * One number per monitor call in the process, from the calling thread's id and that thread's call
 * counter: how the router tracks calls in flight and how the wait-for graph names its nodes.
 * Thread ids and call counters stay far below 2^21 and 2^32.
 */
export function callKey(thread: number, callId: number): number {
  return thread * 2 ** 32 + callId;
}

/** The thread that made the call `key` names. */
export function threadOfCall(key: number): number {
  return Math.floor(key / 2 ** 32);
}
