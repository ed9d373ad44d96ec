import { DefinitionError, freeze, Monitor, monitorMethod, type MonitorMethodOptions, ShareabilityError, shutdown, spawn } from '../../lib';
import { firstValueFrom, from, isObservable, lastValueFrom, map, of, switchMap, toArray, type Observable } from 'rxjs';
import { Tally } from '../fixtures/awaited-streams';
import { decoratorMode, hasDesignMetadata } from '../helpers/decorator-mode';
import { latch, settle } from '../helpers/latch';

const FIX = 'decorate a public async instance method with a string name';

// Widened on purpose: the helper's exported type is narrowed to one literal by the compiler.
const mode = decoratorMode as 'standard' | 'legacy';

/** Runs a definition that must be refused and returns the DefinitionError it threw. */
function refusal(define: () => unknown): DefinitionError {
  let thrown: unknown;
  try {
    define();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DefinitionError);
  return thrown as DefinitionError;
}

/** The error a call fails with, whether it throws at once or returns a rejected promise. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/**
 * The misuse message, which names what the decorator was put on and the fix. Legacy decorators
 * also know the class (`... of Account`); standard ones are not told it.
 */
function misuse(target: string): RegExp {
  const escaped = target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^@monitorMethod cannot decorate ${escaped}( of Account)?; ${FIX}$`);
}

describe('@monitorMethod', () => {
  describe('forms', () => {
    it('bare: makes the method callable through a monitor reference', async () => {
      @Monitor
      class Account {
        #balance = 0;
        @monitorMethod async deposit(amount: number): Promise<number> {
          this.#balance += amount;
          return this.#balance;
        }
      }
      const account = new Account();
      await expect(account.deposit(5)).resolves.toBe(5);
      await expect(account.deposit(7)).resolves.toBe(12);
    });

    it('factory without options: behaves like the bare form', async () => {
      @Monitor
      class Account {
        #balance = 0;
        @monitorMethod() async deposit(amount: number): Promise<number> {
          this.#balance += amount;
          return this.#balance;
        }
      }
      const account = new Account();
      await expect(account.deposit(3)).resolves.toBe(3);
      await expect(account.deposit(4)).resolves.toBe(7);
    });

    it('factory with a name: messages use the name, callers still use the property name', async () => {
      @Monitor
      class Account {
        #total = 0;
        @monitorMethod({ name: 'deposit' }) async credit(amounts: readonly number[]): Promise<number> {
          this.#total += amounts.reduce((sum, amount) => sum + amount, 0);
          return this.#total;
        }
      }
      const account = new Account();
      const refused = account.credit([1, 2]);
      await expect(refused).rejects.toThrow(ShareabilityError);
      await expect(account.credit([1, 2])).rejects.toThrow('Account.deposit: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
      await expect(account.credit(freeze([1, 2]))).resolves.toBe(3);
      expect('credit' in account).toBe(true);
      expect('deposit' in account).toBe(false);
    });
  });

  describe('misuse is refused when the class is defined, saying what it was put on and the fix', () => {
    it('refuses a getter', () => {
      const error = refusal(() => {
        class Account {
          // @ts-expect-error a getter is not a method
          @monitorMethod get total(): Promise<number> {
            return Promise.resolve(0);
          }
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the getter total'));
    });

    it('refuses a setter', () => {
      const error = refusal(() => {
        class Account {
          // @ts-expect-error a setter is not a method
          @monitorMethod set total(_value: Promise<number>) {}
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the setter total'));
    });

    it('refuses a field, even one holding an async function', () => {
      const error = refusal(() => {
        class Account {
          // @ts-expect-error a field is not a method
          @monitorMethod deposit = async (): Promise<void> => {};
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the field deposit'));
    });

    it('refuses a static method', () => {
      const error = refusal(() => {
        class Account {
          @monitorMethod static async open(): Promise<void> {}
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the static method open'));
    });

    it('refuses a class', () => {
      const error = refusal(() => {
        // @ts-expect-error a method decorator on a class
        @monitorMethod
        class Account {
          async deposit(): Promise<void> {}
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('class Account'));
    });

    it('refuses a method with a symbol name', () => {
      const audit = Symbol('audit');
      const error = refusal(() => {
        class Account {
          @monitorMethod async [audit](): Promise<void> {}
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the method [Symbol(audit)]'));
    });

    it('refuses misuse through the factory form too', () => {
      const error = refusal(() => {
        class Account {
          // @ts-expect-error a getter is not a method
          @monitorMethod({ name: 'sum' }) get total(): Promise<number> {
            return Promise.resolve(0);
          }
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the getter total'));
    });

    // Legacy decorators cannot be written on a #private member at all (the compiler refuses it),
    // so only standard decorators can reach the library with one.
    (mode === 'standard' ? it : it.skip)('refuses a private #method (standard decorators only)', () => {
      const error = refusal(() => {
        class Account {
          // @ts-ignore -- legacy mode refuses this line (TS1206) and standard mode accepts it, so no @ts-expect-error holds in both
          @monitorMethod async #audit(): Promise<void> {}
        }
        return Account;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toMatch(misuse('the method #audit'));
    });
  });

  describe('options', () => {
    it('refuses a name that is not a non-empty string', () => {
      const error = refusal(() => monitorMethod({ name: 3 } as unknown as MonitorMethodOptions));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toBe('@monitorMethod: option `name` must be a non-empty string, got 3');
      expect(refusal(() => monitorMethod({ name: '' })).code).toBe('ERR_INVALID_OPTION');
    });

    it('refuses an unknown option, listing the known ones', () => {
      const error = refusal(() => monitorMethod({ nmae: 'deposit' } as unknown as MonitorMethodOptions));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toBe('@monitorMethod: option `nmae` must be one of the known options (name), got an unknown option');
    });

    it('refuses options that are not an object', () => {
      const error = refusal(() => monitorMethod('deposit' as unknown as MonitorMethodOptions));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toBe('@monitorMethod: option `options` must be an object, got "deposit"');
    });

    it("refuses the factory's result being used as a factory again", () => {
      const again = monitorMethod({ name: 'deposit' }) as unknown as (options?: MonitorMethodOptions) => unknown;
      const withOptions = refusal(() => again({ name: 'credit' }));
      expect(withOptions.code).toBe('ERR_DECORATOR_MISUSE');
      expect(withOptions.message).toBe('@monitorMethod cannot decorate its own options; write @monitorMethod(options) once, directly above the method');

      const empty = monitorMethod() as unknown as (options?: MonitorMethodOptions) => unknown;
      expect(refusal(() => empty()).code).toBe('ERR_DECORATOR_MISUSE');
    });
  });

  describe('in a class that is not a @Monitor', () => {
    const message = 'Ledger.record is a @monitorMethod but class Ledger is not a @Monitor; add @Monitor to the class, or remove @monitorMethod';

    (mode === 'standard' ? it : it.skip)('is refused at construction (standard decorators)', () => {
      class Ledger {
        @monitorMethod async record(): Promise<void> {}
      }
      const error = refusal(() => new Ledger());
      expect(error.code).toBe('ERR_MONITOR_METHOD_OUTSIDE_MONITOR');
      expect(error.message).toBe(message);
    });

    (mode === 'legacy' ? it : it.skip)('is refused at the first call, before the method body runs (legacy decorators)', async () => {
      let ran = 0;
      class Ledger {
        @monitorMethod async record(): Promise<void> {
          ran++;
        }
      }
      const ledger = new Ledger();
      const error = await failureOf(() => ledger.record());
      expect(error).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({ code: 'ERR_MONITOR_METHOD_OUTSIDE_MONITOR', message });
      expect(ran).toBe(0);
    });

    // A @Monitor subclass adopting the method must not make plain base instances callable unguarded.
    it('is refused on a plain instance of a base class whose @Monitor subclass adopted the method', async () => {
      let ran = 0;
      class Ledger {
        @monitorMethod async record(): Promise<void> {
          ran++;
        }
      }
      @Monitor
      class AuditedLedger extends Ledger {}
      void AuditedLedger;
      const error = await failureOf(() => new Ledger().record());
      expect(error).toMatchObject({ code: 'ERR_MONITOR_METHOD_OUTSIDE_MONITOR', message });
      expect(ran).toBe(0);
    });
  });

  describe('what the method returns', () => {
    it('treats a method declared without async as a stream method: a result that is not an Observable errors its subscription only', async () => {
      @Monitor
      class Account {
        @monitorMethod({ name: 'balance' }) readBalance(): Observable<number> {
          return 42 as unknown as Observable<number>;
        }
        @monitorMethod async ok(): Promise<string> {
          return 'ok';
        }
      }
      const account = new Account();
      const balance = account.readBalance();
      expect(isObservable(balance)).toBe(true);
      const queued = account.ok();
      const error = await failureOf(() => firstValueFrom(balance));
      expect(error).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({
        code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE',
        message:
          'Account.balance is a stream method (declared without async), but it returned a number, not an Observable; return an Observable, or declare the method async to return a promise',
      });
      await expect(queued).resolves.toBe('ok');
      await expect(account.ok()).resolves.toBe('ok');
    });

    it('takes an async method compiled for an old target (a plain function calling __awaiter) as a promise method, holding the monitor until it settles', async () => {
      const gate = latch<number>();
      const order: string[] = [];
      // What TypeScript emits for an async method below ES2017, reduced to its shape.
      const __awaiter = <T>(body: () => Promise<T>): Promise<T> => body();
      @Monitor
      class Vault {
        @monitorMethod open(): Promise<number> {
          return __awaiter(() => {
            order.push('open started');
            return gate.promise.then((code) => {
              order.push('open settled');
              return code;
            });
          });
        }
        @monitorMethod async peek(): Promise<string> {
          order.push('peek');
          return 'peeked';
        }
      }
      const vault = new Vault();
      const opened = vault.open();
      const peeked = vault.peek();
      await settle();
      expect(order).toEqual(['open started']);
      gate.open(7);
      await expect(opened).resolves.toBe(7);
      await expect(peeked).resolves.toBe('peeked');
      expect(order).toEqual(['open started', 'open settled', 'peek']);
    });

    it('turns a synchronous throw of a stream method into the error of that subscription only', async () => {
      @Monitor
      class Parser {
        @monitorMethod parse(text: string): Observable<number> {
          const value = Number(text);
          if (Number.isNaN(value)) throw new SyntaxError(`not a number: ${text}`);
          return of(value);
        }
      }
      const parser = new Parser();
      let bad: Observable<number> | undefined;
      expect(() => {
        bad = parser.parse('x');
      }).not.toThrow();
      const error = await failureOf(() => firstValueFrom(bad as Observable<number>));
      expect(error).toBeInstanceOf(SyntaxError);
      expect((error as Error).message).toBe('not a number: x');
      await expect(firstValueFrom(parser.parse('4'))).resolves.toBe(4);
    });
  });

  describe('a method declared without async that returns a promise (a stream method by mistake)', () => {
    afterAll(() => shutdown());

    const awaited = (method: string) =>
      `${method} is declared without async, so it is a stream method and its call returns an Observable, which cannot be awaited; declare the method async to return a Promise, or subscribe to the Observable (lastValueFrom() waits for its last value)`;
    /** What such a call really returns, whatever the method's declared type says. */
    const asStream = (call: unknown) => call as Observable<unknown>;
    const notObservable = (method: string) =>
      `${method} is a stream method (declared without async), but it returned a Promise, not an Observable; return an Observable, or declare the method async to return a promise`;

    it('rejects `await ref.method()` with a DefinitionError instead of resolving to an Observable, and the method does not run', async () => {
      const tally = new Tally();
      const error = await failureOf(async () => {
        const sum: unknown = await tally.add(1);
        return sum;
      });
      expect(error).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED', message: awaited('Tally.add') });
      await expect(tally.total()).resolves.toBe(0);
      // Every way a promise is adopted refuses it too.
      await expect(Promise.resolve(tally.add(1))).rejects.toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED' });
      await expect(Promise.all([tally.add(1)])).rejects.toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED' });
      await expect((async () => tally.add(1))()).rejects.toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED' });
      await expect(tally.total()).resolves.toBe(0);
    });

    it('errors the subscription with ERR_STREAM_METHOD_NOT_OBSERVABLE, which says to declare it async', async () => {
      const tally = new Tally();
      const error = await failureOf(() => firstValueFrom(asStream(tally.add(2))));
      expect(error).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({ code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE', message: notObservable('Tally.add') });
      // It ran on subscribe (a stream method's turn), and the monitor is still usable.
      await expect(tally.total()).resolves.toBe(2);
    });

    it('does not leave an unhandled rejection when the promise it returned rejects', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        @Monitor
        class Gate {
          @monitorMethod open() {
            return Promise.reject(new RangeError('the gate is stuck'));
          }
        }
        const error = await failureOf(() => firstValueFrom(asStream(new Gate().open())));
        expect(error).toMatchObject({ code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE', message: notObservable('Gate.open') });
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('is refused at definition when the Promise return type is declared and metadata is emitted, else when awaited', async () => {
      const define = () => {
        @Monitor
        class Counter {
          #count = 0;
          @monitorMethod add(n: number): Promise<number> {
            this.#count += n;
            return Promise.resolve(this.#count);
          }
        }
        return Counter;
      };
      if (hasDesignMetadata) {
        const error = refusal(define);
        expect(error).toMatchObject({
          code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE',
          message:
            'Counter.add is a stream method (declared without async), but it returned a Promise (its declared type), not an Observable; return an Observable, or declare the method async to return a promise',
        });
        return;
      }
      const Counter = define();
      const error = await failureOf(() => new Counter().add(1));
      expect(error).toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED', message: awaited('Counter.add') });
    });

    it('rejects `await ref.method()` on a monitor of another thread, and its subscription errors there with ERR_STREAM_METHOD_NOT_OBSERVABLE', async () => {
      const tally = await spawn(Tally);
      const error = await failureOf(async () => {
        const sum: unknown = await tally.add(1);
        return sum;
      });
      expect(error).toBeInstanceOf(DefinitionError);
      expect(error).toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED', message: awaited('Tally.add') });
      await expect(tally.total()).resolves.toBe(0);
      const refused = await failureOf(() => lastValueFrom(asStream(tally.add(5))));
      expect(refused).toBeInstanceOf(DefinitionError);
      expect(refused).toMatchObject({ code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE', message: notObservable('Tally.add') });
      await expect(tally.total()).resolves.toBe(5);
    }, 60_000);

    it('leaves rxjs helpers working on a stream call: firstValueFrom, lastValueFrom, from, pipe and inner Observables', async () => {
      @Monitor
      class Source {
        @monitorMethod numbers(count: number): Observable<number> {
          return of(...Array.from({ length: count }, (_, index) => index + 1));
        }
      }
      const source = new Source();
      const numbers = source.numbers(3);
      expect(isObservable(numbers)).toBe(true);
      expect(from(numbers)).toBe(numbers);
      await expect(firstValueFrom(numbers)).resolves.toBe(1);
      await expect(lastValueFrom(numbers)).resolves.toBe(3);
      await expect(lastValueFrom(from(source.numbers(2)).pipe(toArray()))).resolves.toEqual([1, 2]);
      await expect(lastValueFrom(source.numbers(3).pipe(map((n) => n * 10), toArray()))).resolves.toEqual([10, 20, 30]);
      await expect(lastValueFrom(of(2).pipe(switchMap((count) => source.numbers(count)), toArray()))).resolves.toEqual([1, 2]);
      // The Observable's `then` is its own and hidden: it shows in no listing of its properties.
      expect(Object.keys(numbers)).not.toContain('then');
      await expect(failureOf(async () => await source.numbers(1))).resolves.toMatchObject({ code: 'ERR_STREAM_METHOD_AWAITED' });
    });
  });
});
