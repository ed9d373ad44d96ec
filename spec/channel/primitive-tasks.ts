/** Tasks for the channel specs that carry values of every kind: worker threads load this module to find them. */
import { freeze, task, type Channel } from '../../lib';

/** Puts each value in order, then closes the channel. */
export const putAll = task(async function putAll(channel: Channel<unknown>, values: readonly unknown[]): Promise<number> {
  for (const value of values) await channel.put(value);
  await channel.close();
  return values.length;
});

/** Takes values until the channel is closed and drained. */
export const takeAll = task(async function takeAll(channel: Channel<unknown>): Promise<readonly unknown[]> {
  const taken: unknown[] = [];
  for await (const value of channel) taken.push(value);
  return freeze(taken);
});
