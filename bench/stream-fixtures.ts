/**
 * safethread's side of the stream benches: the channel producer and consumer that branch
 * children run, and a monitor with a stream method to spawn as an actor. Worker threads load this
 * module to find them, so it only defines and registers (no side effects).
 */
import { range, type Observable } from 'rxjs';
import { freeze, Monitor, monitorMethod, task, type Channel } from '../lib';

/** Puts `from`, `from + 1`, ... `to - 1` into the channel, each put awaited; returns how many. */
export const putNumbers = task(async function putNumbers(channel: Channel<number>, from: number, to: number): Promise<number> {
  for (let value = from; value < to; value++) await channel.put(value);
  return to - from;
});

/** Takes values until the channel is closed and drained; returns how many it took and their sum. */
export const takeNumbers = task(async function takeNumbers(channel: Channel<number>): Promise<readonly [count: number, sum: number]> {
  let count = 0;
  let sum = 0;
  for await (const value of channel) {
    count++;
    sum += value;
  }
  return freeze([count, sum] as const);
});

/** A monitor whose stream method emits numbers as fast as its thread can: the items are the whole cost. */
@Monitor
export class NumberSource {
  /** `0 .. count - 1`, synchronously, at each subscription. */
  @monitorMethod
  numbers(count: number): Observable<number> {
    return range(0, count);
  }

  /** An ordinary call, to know the actor is up. */
  @monitorMethod
  async ready(): Promise<boolean> {
    return true;
  }
}
