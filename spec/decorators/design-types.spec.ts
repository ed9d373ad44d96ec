import { DefinitionError, freeze, Monitor, monitorMethod, shareable, ShareabilityError } from '../../lib';
import { hasDesignMetadata } from '../helpers/decorator-mode';

/**
 * With legacy decorators, `emitDecoratorMetadata` and `reflect-metadata`, the declared types of a
 * monitor's parameters are known when the class is defined, so a parameter declared as a type
 * that is never shareable is refused then, not at the first call. Only the `legacy+metadata`
 * project compiles the spec that way; the others report this suite as skipped.
 *
 * Several declarations below are compile errors too (the type-level rules); `@ts-expect-error`
 * lets them through to the run-time check, which is what this suite tests.
 */

/** Runs a class definition that must be refused and returns what it threw. */
function refusal(define: () => unknown): unknown {
  try {
    define();
  } catch (error) {
    return error;
  }
  throw new Error('expected the class definition to be refused, but it was accepted');
}

function expectDeclaredTypeRefusal(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(ShareabilityError);
  expect(error).toMatchObject({ code: 'ERR_UNSHAREABLE_DECLARED_TYPE', message });
}

/** A class that is neither @shareable nor a @Monitor: its instances may never cross threads. */
class Customer {
  constructor(readonly name: string) {}
}

(hasDesignMetadata ? describe : describe.skip)('declared types (legacy decorators with emitDecoratorMetadata)', () => {
  describe('refuses, when the class is defined, a monitor method parameter declared as', () => {
    it('Map<string, number>', () => {
      const error = refusal(() => {
        @Monitor
        class Prices {
          // @ts-expect-error a Map parameter is never shareable
          @monitorMethod async load(rates: Map<string, number>): Promise<void> {}
        }
        return Prices;
      });
      expectDeclaredTypeRefusal(
        error,
        'Prices.load: parameter 0 is declared as Map, which is never shareable; pass a frozen plain object, or a frozen array of [key, value] pairs',
      );
    });

    it('Date, naming the parameter by its position', () => {
      const error = refusal(() => {
        @Monitor
        class Calendar {
          // @ts-expect-error a Date parameter is never shareable
          @monitorMethod async book(title: string, when: Date): Promise<void> {}
        }
        return Calendar;
      });
      expectDeclaredTypeRefusal(
        error,
        'Calendar.book: parameter 1 is declared as Date, which is never shareable; pass date.getTime() or date.toISOString()',
      );
    });

    it('Set<string>, naming the method by its name option', () => {
      const error = refusal(() => {
        @Monitor
        class Tags {
          // @ts-expect-error a Set parameter is never shareable
          @monitorMethod({ name: 'tag' }) async addAll(tags: Set<string>): Promise<void> {}
        }
        return Tags;
      });
      expectDeclaredTypeRefusal(error, 'Tags.tag: parameter 0 is declared as Set, which is never shareable; pass a frozen array of its values');
    });

    it('() => void, with the fix a function needs', () => {
      const error = refusal(() => {
        @Monitor
        class Button {
          // @ts-expect-error a function parameter is never shareable
          @monitorMethod async onClick(handler: () => void): Promise<void> {}
        }
        return Button;
      });
      expectDeclaredTypeRefusal(
        error,
        'Button.onClick: parameter 0 is declared as Function, which is never shareable; functions cannot cross threads; pass data, a monitor reference, or register the function with task()',
      );
    });

    it('a class that is neither @shareable nor a @Monitor, although the compiler accepts it', () => {
      const error = refusal(() => {
        @Monitor
        class Shop {
          @monitorMethod async register(customer: Customer): Promise<void> {}
        }
        return Shop;
      });
      expectDeclaredTypeRefusal(
        error,
        'Shop.register: parameter 0 is declared as class Customer, which is neither @shareable nor a @Monitor; mark Customer @shareable, or declare a readonly plain type',
      );
    });
  });

  describe('refuses, when the class is defined, a constructor parameter declared as', () => {
    it('Map<string, number>', () => {
      const error = refusal(() => {
        // @ts-expect-error a Map constructor parameter is never shareable
        @Monitor
        class Prices {
          constructor(rates: Map<string, number>) {
            void rates;
          }
          @monitorMethod async ok(): Promise<void> {}
        }
        return Prices;
      });
      expectDeclaredTypeRefusal(
        error,
        'Prices constructor: parameter 0 is declared as Map, which is never shareable; pass a frozen plain object, or a frozen array of [key, value] pairs',
      );
    });

    it('a class that is neither @shareable nor a @Monitor', () => {
      const error = refusal(() => {
        @Monitor
        class Shop {
          constructor(name: string, owner: Customer) {
            void name;
            void owner;
          }
          @monitorMethod async ok(): Promise<void> {}
        }
        return Shop;
      });
      expectDeclaredTypeRefusal(
        error,
        'Shop constructor: parameter 1 is declared as class Customer, which is neither @shareable nor a @Monitor; mark Customer @shareable, or declare a readonly plain type',
      );
    });
  });

  it('refuses a monitor method declared to return a number (not async) when the class is defined', () => {
    const error = refusal(() => {
      @Monitor
      class Meter {
        // @ts-expect-error a monitor method must be async
        @monitorMethod read(): number {
          return 1;
        }
      }
      return Meter;
    });
    expect(error).toBeInstanceOf(DefinitionError);
    expect(error).toMatchObject({
      code: 'ERR_MONITOR_METHOD_NOT_ASYNC',
      message: 'Meter.read returns Number (its declared type), not a Promise or an Observable; declare the monitor method async',
    });
  });

  it('refuses a method declared to return a Promise but not async, which would be taken for a stream method', () => {
    const error = refusal(() => {
      @Monitor
      class Meter {
        @monitorMethod read(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return Meter;
    });
    expect(error).toMatchObject({
      code: 'ERR_STREAM_METHOD_NOT_OBSERVABLE',
      message:
        'Meter.read is a stream method (declared without async), but it returned a Promise (its declared type), not an Observable; return an Observable, or declare the method async to return a promise',
    });
  });

  it('accepts numbers, strings, readonly arrays, interfaces, @shareable classes, other monitors and its own class', async () => {
    interface Order {
      readonly id: string;
      readonly quantity: number;
    }

    @shareable
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }

    @Monitor
    class Warehouse {
      @monitorMethod async stock(sku: string): Promise<number> {
        return sku.length;
      }
    }

    @Monitor
    class Shop {
      readonly #name: string;
      readonly #warehouse: Warehouse;
      constructor(name: string, warehouse: Warehouse, _origin: Point) {
        this.#name = name;
        this.#warehouse = warehouse;
      }
      @monitorMethod async price(cents: number, currency: string): Promise<string> {
        return `${cents} ${currency}`;
      }
      @monitorMethod async count(skus: readonly string[]): Promise<number> {
        return skus.length;
      }
      @monitorMethod async place(order: Order): Promise<string> {
        return `${order.id} x${order.quantity}`;
      }
      @monitorMethod async distance(point: Point): Promise<number> {
        return Math.hypot(point.x, point.y);
      }
      @monitorMethod async stockAt(warehouse: Warehouse, sku: string): Promise<number> {
        return warehouse.stock(sku);
      }
      @monitorMethod async stockHere(sku: string): Promise<number> {
        return this.#warehouse.stock(sku);
      }
      @monitorMethod async name(): Promise<string> {
        return this.#name;
      }
      @monitorMethod async greet(other: Shop): Promise<string> {
        return `${this.#name} greets ${await other.name()}`;
      }
    }

    const warehouse = new Warehouse();
    const shop = new Shop('corner', warehouse, new Point(0, 0));
    await expect(shop.price(250, 'EUR')).resolves.toBe('250 EUR');
    await expect(shop.count(freeze(['a', 'b']))).resolves.toBe(2);
    await expect(shop.place(freeze({ id: 'o-1', quantity: 3 }))).resolves.toBe('o-1 x3');
    await expect(shop.distance(new Point(3, 4))).resolves.toBe(5);
    await expect(shop.stockAt(new Warehouse(), 'abc')).resolves.toBe(3);
    await expect(shop.stockHere('abcd')).resolves.toBe(4);
    await expect(shop.greet(new Shop('kiosk', warehouse, new Point(1, 1)))).resolves.toBe('corner greets kiosk');
  });
});
