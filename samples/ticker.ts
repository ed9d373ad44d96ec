/**
 * A stream method: an Observable produced on one thread and consumed on another.
 *
 * A stock ticker lives on a thread of its own (`spawn`). Its `prices` method is not async: it
 * returns an rxjs Observable, a price that wanders a little every 80 ms, for ever. This thread
 * subscribes to two symbols at once and prints the prices as they arrive; `take(4)` then
 * unsubscribes, and the unsubscription crosses back to the ticker's thread, where it stops the
 * timer and runs the stream's `finalize`. The ticker counts those teardowns, and we ask it.
 *
 * Run alone: npx ts-node samples/ticker.ts
 */
import { threadId } from 'node:worker_threads';
import { finalize, interval, lastValueFrom, map, merge, take, tap, type Observable } from 'rxjs';
import { close, freeze, Monitor, monitorMethod, sleep, spawn } from '../lib';

/** One price, as the ticker sends it: frozen, so it may cross threads. */
export interface Quote {
  readonly symbol: string;
  readonly tick: number;
  readonly price: number;
  readonly change: number;
  readonly thread: number;
}

@Monitor
export class StockTicker {
  #teardowns = 0;

  /** A stream method: each subscription runs this on the ticker's thread and receives its values. */
  @monitorMethod prices(symbol: string, opening: number): Observable<Quote> {
    let price = opening;
    return interval(80).pipe(
      map((tick) => {
        const last = price;
        price = Math.round(Math.max(1, price * (1 + (Math.random() - 0.5) / 50)) * 100) / 100;
        return freeze({ symbol, tick, price, change: price - last, thread: threadId });
      }),
      finalize(() => this.#teardowns++), // runs here when the subscriber far away unsubscribes
    );
  }

  @monitorMethod async teardowns(): Promise<number> {
    return this.#teardowns;
  }
}

const TICKS = 4;

export async function main(): Promise<void> {
  const ticker = await spawn(StockTicker);
  try {
    console.log(`ticker: a StockTicker on its own thread streams prices to thread ${threadId}, ${TICKS} each`);
    const quotes = (symbol: string, opening: number) =>
      ticker.prices(symbol, opening).pipe(
        take(TICKS), // unsubscribes after the fourth price: the producer's teardown runs over there
        tap((quote) => console.log(`  ${quote.symbol.padEnd(4)} ${quote.price.toFixed(2).padStart(7)} ${arrow(quote.change)}   (tick ${quote.tick}, made on thread ${quote.thread})`)),
      );
    await lastValueFrom(merge(quotes('ACME', 120), quotes('INIT', 42.5)));

    // The teardowns travel as messages: give them a moment to arrive before asking.
    let teardowns = await ticker.teardowns();
    for (let i = 0; i < 100 && teardowns < 2; i++) {
      await sleep(5);
      teardowns = await ticker.teardowns();
    }
    console.log(`  both subscriptions ended here; their teardowns ran on the ticker's thread: ${teardowns} of 2`);
  } finally {
    await close(ticker);
  }
}

function arrow(change: number): string {
  const sign = change > 0 ? '▲ +' : change < 0 ? '▼ -' : '= ';
  return `${sign}${Math.abs(change).toFixed(2)}`.padEnd(8);
}

if (require.main === module) void main();
