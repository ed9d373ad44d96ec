import type { TransferListItem } from 'node:worker_threads';
import { runtime } from '../runtime';
import type { ToMain, ToWorker } from './protocol';
import { Router } from './router';

/**
 * How a thread sends messages to another thread. On a worker every message goes to the main
 * thread, which forwards those meant for another worker; on the main thread it is the router.
 */
export interface Transport {
  send(to: number, message: ToMain | ToWorker, transfer?: readonly TransferListItem[]): void;
}

/** This thread's transport: a worker sets its own up when it starts; the main thread's router starts on first use. */
export function transport(): Transport {
  return (runtime.transport ??= new Router());
}

/** The main thread's router. */
export function router(): Router {
  return transport() as Router;
}
