import { DefinitionError, freeze, Monitor, MonitorAccessError, monitorMethod, ShareabilityError } from '../../lib';
import { firstValueFrom, type Observable } from 'rxjs';
import { latch, settle } from '../helpers/latch';

@Monitor
class Counter {
  #count = 0;
  readonly log: string[] = [];

  constructor(start = 0) {
    this.#count = start;
  }

  @monitorMethod async increment(): Promise<number> {
    const before = this.#count;
    await settle(); // a real await inside the turn: another call must not slip in here
    this.#count = before + 1;
    return this.#count;
  }

  @monitorMethod async get(): Promise<number> {
    return this.#count;
  }

  @monitorMethod async incrementTwiceDirectly(): Promise<number> {
    await this.increment();
    return this.increment();
  }

  @monitorMethod async fail(message: string): Promise<never> {
    throw new RangeError(message);
  }
}

describe('@Monitor', () => {
  describe('references', () => {
    it('returns a reference from new, not the instance', async () => {
      const counter = new Counter(5);
      expect(counter).toBeInstanceOf(Counter);
      expect(Object.isFrozen(counter)).toBe(true);
      expect(Object.keys(counter)).toEqual([]);
      await expect(counter.get()).resolves.toBe(5);
    });

    it('throws MonitorAccessError when a field is read through a reference', () => {
      const counter = new Counter();
      expect(() => (counter as unknown as { log: unknown }).log).toThrow(MonitorAccessError);
      expect(() => (counter as unknown as { log: unknown }).log).toThrow(
        'cannot read Counter#' ,
      );
      expect(() => (counter as unknown as { log: unknown }).log).toThrow(/only @monitorMethod methods are reachable/);
    });

    it('throws MonitorAccessError when a property is written, defined or deleted', () => {
      const counter = new Counter() as unknown as Record<string, unknown>;
      expect(() => {
        counter.log = [];
      }).toThrow(MonitorAccessError);
      expect(() => Object.defineProperty(counter, 'x', { value: 1 })).toThrow(/cannot change Counter#\d+\.x from outside/);
      expect(() => delete counter.get).toThrow(MonitorAccessError);
    });

    it('can be awaited and returned from async functions, like any value', async () => {
      const counter = new Counter();
      const same = await (async () => counter)();
      expect(same).toBe(counter);
      expect('increment' in counter).toBe(true);
      expect('log' in counter).toBe(false);
    });

    it('gives every monitor its own id', () => {
      const read = (reference: unknown) => {
        try {
          return (reference as { nope: unknown }).nope;
        } catch (error) {
          return (error as Error).message.match(/Counter#\d+/)?.[0];
        }
      };
      expect(read(new Counter())).not.toEqual(read(new Counter()));
    });
  });

  describe('turns', () => {
    it('runs calls one at a time, awaits included, so no update is lost', async () => {
      const counter = new Counter();
      const results = await Promise.all(Array.from({ length: 20 }, () => counter.increment()));
      expect(results).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
      await expect(counter.get()).resolves.toBe(20);
    });

    it('runs calls in the order they were made (FIFO)', async () => {
      const order: number[] = [];
      const gate = latch();
      @Monitor
      class Recorder {
        @monitorMethod async hold(): Promise<void> {
          await gate.promise;
        }
        @monitorMethod async record(n: number): Promise<void> {
          order.push(n);
        }
      }
      const recorder = new Recorder();
      const held = recorder.hold();
      const calls = [3, 1, 4, 1, 5, 9, 2, 6].map((n) => recorder.record(n));
      await settle();
      expect(order).toEqual([]); // all queued behind the holder
      gate.open();
      await Promise.all([held, ...calls]);
      expect(order).toEqual([3, 1, 4, 1, 5, 9, 2, 6]);
    });

    it('runs this.other() inside a turn directly, without queueing behind itself', async () => {
      const counter = new Counter();
      await expect(counter.incrementTwiceDirectly()).resolves.toBe(2);
    });

    it('rejects only the failing call and stays usable', async () => {
      const counter = new Counter();
      const failing = counter.fail('boom');
      const next = counter.increment();
      await expect(failing).rejects.toThrow(RangeError);
      await expect(failing).rejects.toThrow('boom');
      await expect(next).resolves.toBe(1);
    });

    it('releases the monitor after methods that throw before their first await, however many wait', async () => {
      const gate = latch();
      @Monitor
      class Thrower {
        @monitorMethod async hold(): Promise<void> {
          await gate.promise;
        }
        // A stream method that throws before returning releases the monitor synchronously.
        @monitorMethod throwsSync(): Observable<void> {
          throw new TypeError('sync');
        }
        @monitorMethod async ok(): Promise<string> {
          return 'ok';
        }
      }
      const thrower = new Thrower();
      const held = thrower.hold();
      // Queued behind the holder, they all run back to back when it releases.
      const failures = Array.from({ length: 20_000 }, () => firstValueFrom(thrower.throwsSync()));
      const ok = thrower.ok();
      gate.open();
      await held;
      const outcomes = await Promise.allSettled(failures);
      expect(outcomes.every((outcome) => outcome.status === 'rejected' && (outcome.reason as Error).message === 'sync')).toBe(true);
      await expect(ok).resolves.toBe('ok');
    });

    it('rejects an async generator, which is neither a promise nor a stream method, naming it, and stays usable', async () => {
      @Monitor
      class Sync {
        // @ts-expect-error: the types refuse it too
        @monitorMethod async *numbers(): AsyncGenerator<number> {
          return;
        }
        @monitorMethod async ok(): Promise<string> {
          return 'ok';
        }
      }
      const sync = new Sync();
      const call = sync.numbers() as unknown as Promise<unknown>;
      await expect(call).rejects.toThrow(DefinitionError);
      await expect(sync.numbers() as unknown as Promise<unknown>).rejects.toThrow(
        'Sync.numbers returns an AsyncGenerator, not a Promise or an Observable; declare the monitor method async',
      );
      await expect(sync.ok()).resolves.toBe('ok');
    });
  });

  describe('shareability at the border', () => {
    @Monitor
    class Store {
      #items: readonly unknown[] = [];
      @monitorMethod async put(items: readonly unknown[]): Promise<void> {
        this.#items = items;
      }
      @monitorMethod async leak(): Promise<readonly unknown[]> {
        return [...this.#items];
      }
    }

    it('rejects a mutable argument before the call is queued', async () => {
      const store = new Store();
      const call = store.put([1, 2, 3]);
      await expect(call).rejects.toThrow(ShareabilityError);
      await expect(store.put([1, 2, 3])).rejects.toThrow('Store.put: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
      await expect(store.put(freeze([{ tags: ['a'] }]))).resolves.toBeUndefined();
    });

    it('names the path inside a nested argument', async () => {
      const store = new Store();
      const value = Object.freeze([Object.freeze({ items: Object.freeze([1, 2, 3, { tags: [] }]) })]);
      await expect(store.put(value)).rejects.toThrow('Store.put: argument 0 [0].items[3] is a mutable object; pass freeze(value) or a frozen copy');
    });

    it('rejects a non-shareable result, and the monitor stays usable', async () => {
      const store = new Store();
      await store.put(freeze([1]));
      await expect(store.leak()).rejects.toThrow('Store.leak: return value is a mutable Array; pass freeze(value) or a frozen copy');
      await expect(store.put(freeze([2]))).resolves.toBeUndefined();
    });

    it('checks constructor arguments', () => {
      @Monitor
      class Holder {
        constructor(readonly items: readonly number[]) {}
        @monitorMethod async size(): Promise<number> {
          return this.items.length;
        }
      }
      expect(() => new Holder([1, 2])).toThrow('Holder constructor: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
      expect(() => new Holder(freeze([1, 2]))).not.toThrow();
    });

    it('passes monitor references through calls as the same reference', async () => {
      @Monitor
      class Registry {
        #entries: readonly Counter[] = [];
        @monitorMethod async add(counter: Counter): Promise<Counter> {
          this.#entries = [...this.#entries, counter];
          return counter;
        }
      }
      const counter = new Counter();
      const registry = new Registry();
      await expect(registry.add(counter)).resolves.toBe(counter);
    });

    it('refuses the raw instance (`this`) as an argument, saying to pass a reference', async () => {
      @Monitor
      class Leaker {
        @monitorMethod async leakSelf(into: Leaker): Promise<void> {
          await into.take(this as unknown as Leaker);
        }
        @monitorMethod async take(_other: Leaker): Promise<void> {}
      }
      const a = new Leaker();
      const b = new Leaker();
      await expect(a.leakSelf(b)).rejects.toThrow('Leaker.take: argument 0 is a monitor instance itself (`this` inside a monitor); the instance never leaves its monitor; pass a monitor reference instead');
    });
  });

  describe('definition', () => {
    it('works as a factory with options, and uses the name option in messages', async () => {
      @Monitor({ name: 'Vault', reentrant: false })
      class Safe {
        @monitorMethod async put(_value: readonly number[]): Promise<void> {}
      }
      await expect(new Safe().put([1] as readonly number[])).rejects.toThrow(/^Vault\.put: argument 0/);
      @Monitor()
      class Empty {
        @monitorMethod async ok(): Promise<number> {
          return 1;
        }
      }
      await expect(new Empty().ok()).resolves.toBe(1);
    });

    it('refuses unknown options and option values of the wrong kind', () => {
      expect(() => Monitor({ reentrant: 'always' as 'chain' })).toThrow(DefinitionError);
      expect(() => Monitor({ reentrant: 'always' as 'chain' })).toThrow('@Monitor: option `reentrant` must be false or \'chain\', got "always"');
      expect(() => Monitor({ reentrent: 'chain' } as never)).toThrow('@Monitor: option `reentrent` must be one of the known options (name, reentrant), got an unknown option');
      expect(() => Monitor({ name: '' })).toThrow('@Monitor: option `name` must be a non-empty string, got ""');
      expect(() => Monitor(42 as never)).toThrow('@Monitor: option `options` must be an object, got 42');
    });

    it('refuses a class without monitor methods', () => {
      expect(() => {
        @Monitor
        class Useless {
          async run(): Promise<void> {}
        }
        return Useless;
      }).toThrow('@Monitor class Useless has no @monitorMethod methods, so nothing could ever call it; mark the methods callers use with @monitorMethod');
    });

    it('refuses being put on a method', () => {
      expect(() => {
        class Misplaced {
          // @ts-expect-error a class decorator on a method is refused by the compiler too
          @Monitor async run(): Promise<void> {}
        }
        return Misplaced;
      }).toThrow(/@Monitor cannot decorate the method run; decorate a class/);
    });

    it('inherits monitor methods, and refuses an undecorated subclass at construction', async () => {
      @Monitor
      class Special extends Counter {
        @monitorMethod async double(): Promise<number> {
          await this.increment();
          return this.increment();
        }
      }
      const special = new Special();
      await expect(special.double()).resolves.toBe(2);
      await expect(special.get()).resolves.toBe(2);

      class Plain extends Counter {}
      expect(() => new Plain()).toThrow('class Plain extends @Monitor class Counter but is not itself a @Monitor; add @Monitor to Plain');
    });
  });
});
