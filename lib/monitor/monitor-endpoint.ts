import type { MonitorPlan } from './monitor-plan';

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
  /** A stream method's Observable: each subscription runs `method` in a turn and forwards what it emits. */
  stream(method: string, args: unknown[]): Subscribable;
}

/** What a stream call returns: an rxjs Observable (typed loosely here, to keep rxjs out of the core). */
export interface Subscribable {
  subscribe(observer: Partial<StreamObserver>): { unsubscribe(): void };
}

/** The three signals of a stream, as rxjs's Observer has them; `closed` once its subscriber is done. */
export interface StreamObserver {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
  readonly closed?: boolean;
}
