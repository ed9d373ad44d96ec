import type { TransferListItem } from 'node:worker_threads';
import { slot } from '../runtime';
import type { ToMain, ToWorker } from './protocol';
import type { Router } from './router';

/**
 * How a thread sends messages to another thread. On a worker every message goes to the main
 * thread, which forwards those meant for another worker; on the main thread it is the router.
 */
export interface Transport {
  send(to: number, message: ToMain | ToWorker, transfer?: readonly TransferListItem[]): void;
}

/**
 * This thread's transport: a worker sets its own up when it starts; the main thread's router
 * starts on first use (when its first worker starts), from what the main thread's start-up gave.
 */
export function transport(): Transport {
  return link().transport();
}

/** Whether this thread has a transport yet: on the main thread, whether a worker was ever started. */
export function transportStarted(): boolean {
  return link().started;
}

/**
 * The main thread's start-up (threads/main-thread.ts, which lib/index.ts installs) gives what makes
 * its transport, its router with the main thread's dispatcher; it runs when the main thread first
 * sends, which is when its first worker starts.
 */
export function startMainThreadWith(start: () => Transport): void {
  link().startMainThreadWith(start);
}

/** A worker's start-up gives its transport at once: every message goes to the main thread. */
export function useTransport(transport: Transport): void {
  link().use(transport);
}

/** How this thread sends messages to other threads; unset until it first needs to. */
class ThreadLink {
  #transport: Transport | undefined = undefined;
  #startMainThread: (() => Transport) | undefined = undefined;

  get started(): boolean {
    return this.#transport !== undefined;
  }

  transport(): Transport {
    return (this.#transport ??= this.#start());
  }

  startMainThreadWith(start: () => Transport): void {
    this.#startMainThread ??= start;
  }

  use(transport: Transport): void {
    this.#transport = transport;
  }

  #start(): Transport {
    const start = this.#startMainThread;
    if (start === undefined) {
      throw new Error("safethread: the main thread's start-up has not run, so it cannot talk to threads; import 'safethread' itself, not one of its internal modules");
    }
    return start();
  }
}

const link = slot('transport', () => new ThreadLink());

/** The main thread's router. */
export function router(): Router {
  return transport() as Router;
}
