import type { MonitorPlan } from './monitor-plan';
import type { StreamObserver } from '../types';

/**
 * What a monitor reference calls: the monitor itself when it lives on this thread, or a proxy
 * for it on another thread. A reference does not know which, so a call means the same either way.
 */
export interface MonitorEndpoint {
  /** `Class#id`, for messages. */
  readonly label: string;
  readonly plan: MonitorPlan;
  /** Runs `method` with `args` in a turn of the monitor; settles with its result or error. */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Optional: a function that calls `method`, made once for a reference, faster than `call` by name. */
  caller?(method: string): (...args: unknown[]) => Promise<unknown>;
  /** A stream method's Observable: each subscription runs `method` in a turn and forwards what it emits. */
  stream(method: string, args: unknown[]): Subscribable;
  /**
   * Closes the monitor (`close(reference)`): one on this thread stops taking calls; one on another
   * thread ends that thread if it is an actor's.
   */
  close(why: string): void | Promise<void>;
}

/** What a stream call returns: an rxjs Observable (typed loosely here, to keep rxjs out of the core). */
export interface Subscribable {
  subscribe(observer: Partial<StreamObserver>): { unsubscribe(): void };
}

/** The three signals of a stream: defined with the rxjs adapter's interface, which takes them too. */
export type { StreamObserver } from '../types';
