import {
  assertShareable,
  DefinitionError,
  freeze,
  isShareable,
  Monitor,
  monitorMethod,
  shareable,
  ShareabilityError,
  type ShareableOptions,
} from '../../lib';

@shareable
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}

  static origin(): Point {
    return new Point(0, 0);
  }

  plus(other: Point): Point {
    return new Point(this.x + other.x, this.y + other.y);
  }
}

/** Runs code that must throw and returns what it threw. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

function definitionErrorFrom(define: () => unknown): DefinitionError {
  const error = thrownBy(define);
  expect(error).toBeInstanceOf(DefinitionError);
  return error as DefinitionError;
}

function shareabilityErrorFrom(run: () => unknown): ShareabilityError {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(ShareabilityError);
  return error as ShareabilityError;
}

describe('@shareable', () => {
  describe('forms', () => {
    it('bare: instances are frozen, shareable values of the class', () => {
      const point = new Point(1, 2);
      expect(point).toBeInstanceOf(Point);
      expect(Object.isFrozen(point)).toBe(true);
      expect(isShareable(point)).toBe(true);
      expect([point.x, point.y]).toEqual([1, 2]);
    });

    it('factory without options behaves like the bare form', () => {
      @shareable()
      class Size {
        constructor(readonly width: number) {}
      }
      const size = new Size(3);
      expect(Object.isFrozen(size)).toBe(true);
      expect(isShareable(size)).toBe(true);
    });

    it('factory with a name: messages use the name', () => {
      @shareable({ name: 'geo.Point' })
      class NamedPoint {
        readonly labels = new Map<string, string>();
        constructor(readonly x: number) {}
      }
      const error = shareabilityErrorFrom(() => new NamedPoint(1));
      expect(error.message).toMatch(/^new geo\.Point\(\): field \.labels is a Map/);
    });

    it('refuses invalid options', () => {
      const error = definitionErrorFrom(() => shareable({ name: 3 } as unknown as ShareableOptions));
      expect(error.code).toBe('ERR_INVALID_OPTION');
      expect(error.message).toBe('@shareable: option `name` must be a non-empty string, got 3');
      const unknownKey = definitionErrorFrom(() => shareable({ label: 'geo.Point' } as unknown as ShareableOptions));
      expect(unknownKey.code).toBe('ERR_INVALID_OPTION');
      expect(unknownKey.message).toBe('@shareable: option `label` must be one of the known options (name), got an unknown option');
    });
  });

  describe('freezing', () => {
    @shareable
    class Route {
      readonly stops: { name: string; at: number[] }[];
      readonly meta: { tags: string[]; owner: { id: number } };
      constructor(first: string) {
        this.stops = [{ name: first, at: [1, 2] }];
        this.meta = { tags: ['express'], owner: { id: 7 } };
      }
    }

    it('deeply freezes the nested plain arrays and objects assigned in the constructor', () => {
      const route = new Route('A');
      for (const part of [route, route.stops, route.stops[0], route.stops[0]?.at, route.meta, route.meta.tags, route.meta.owner]) {
        expect(Object.isFrozen(part)).toBe(true);
      }
    });

    it('throws (strict mode) when a field is assigned, added or changed deep down after construction', () => {
      const route = new Route('A');
      expect(() => {
        (route as unknown as { stops: unknown }).stops = [];
      }).toThrow(TypeError);
      expect(() => {
        (route as unknown as Record<string, unknown>).extra = 1;
      }).toThrow(TypeError);
      expect(() => route.stops[0]?.at.push(3)).toThrow(TypeError);
      expect(() => {
        route.meta.owner.id = 8;
      }).toThrow(TypeError);
      expect(route.meta.owner.id).toBe(7);
      expect(route.stops[0]?.at).toEqual([1, 2]);
    });

    it('is not shareable while its constructor still runs', () => {
      const seen: unknown[] = [];
      @shareable({ name: 'geo.Probe' })
      class Probe {
        readonly n = 1;
        constructor() {
          seen.push(isShareable(this));
          seen.push(thrownBy(() => assertShareable(this, 'this')));
        }
      }
      const probe = new Probe();
      expect(seen[0]).toBe(false);
      expect((seen[1] as Error).message).toBe(
        'this is a geo.Probe still under construction; a @shareable instance may cross threads once its constructor has returned',
      );
      expect(isShareable(probe)).toBe(true);
    });
  });

  describe('sharing', () => {
    it('is shareable, also inside frozen values and as a field of another @shareable', () => {
      @shareable
      class Segment {
        constructor(
          readonly from: Point,
          readonly to: Point,
        ) {}
      }
      const segment = new Segment(new Point(0, 0), new Point(1, 1));
      expect(isShareable(segment)).toBe(true);
      expect(isShareable(freeze({ path: [segment, new Point(2, 2)] }))).toBe(true);
      expect(() => assertShareable(segment, 'segment')).not.toThrow();
    });

    it('passes through monitor calls as the same instance, with its methods available', async () => {
      @Monitor
      class Canvas {
        #last: Point = Point.origin();
        @monitorMethod async move(by: Point): Promise<Point> {
          this.#last = this.#last.plus(by);
          return this.#last;
        }
        @monitorMethod async echo(point: Point): Promise<Point> {
          return point;
        }
      }
      const canvas = new Canvas();
      const point = new Point(3, 4);
      await expect(canvas.echo(point)).resolves.toBe(point);
      const moved = await canvas.move(point);
      expect(moved).toBeInstanceOf(Point);
      expect(Object.isFrozen(moved)).toBe(true);
      expect(moved.plus(new Point(1, 1))).toEqual(new Point(4, 5));
      await expect(canvas.move(point)).resolves.toEqual(new Point(6, 8));
    });
  });

  describe('fields that are not shareable make new throw ShareabilityError naming the field', () => {
    class Rates {
      constructor(readonly base: string) {}
    }

    it.each<[string, () => unknown, string]>([
      ['a Map', () => new Map<string, number>([['EUR', 1]]), 'new Money(): field .rates is a Map'],
      ['a function', () => (currency: string) => currency.length, 'new Money(): field .rates is a function'],
      ['an instance of an unmarked class', () => new Rates('EUR'), 'new Money(): field .rates is an instance of class Rates, which is not @shareable; mark Rates @shareable'],
      ['a Date deep inside a plain object', () => ({ history: [new Date(0)] }), 'new Money(): field .rates.history[0] is a Date'],
    ])('refuses a field holding %s', (_kind, make, prefix) => {
      @shareable
      class Money {
        readonly rates: unknown = make();
        constructor(readonly cents: number) {}
      }
      const error = shareabilityErrorFrom(() => new Money(500));
      expect(error.code).toBe('ERR_NOT_SHAREABLE');
      expect(error.message.slice(0, prefix.length)).toBe(prefix);
    });

    it('accepts a field assigned in the constructor from a frozen value', () => {
      @shareable
      class Money {
        constructor(
          readonly cents: number,
          readonly rates: { readonly [currency: string]: number },
        ) {}
      }
      expect(isShareable(new Money(500, freeze({ EUR: 1, USD: 1.1 })))).toBe(true);
    });

    it('checks every field before it freezes any: a refused instance leaves the objects it was given as they were', () => {
      @shareable
      class Order {
        constructor(
          readonly lines: { sku: string; tags: string[] }[],
          readonly placed: unknown,
        ) {}
      }
      const tags = ['gift'];
      const lines = [{ sku: 'A1', tags }];
      expect(() => new Order(lines, new Date(0))).toThrow(/new Order\(\): field \.placed is a Date/);
      expect([lines, lines[0], tags].map((each) => Object.isFrozen(each))).toEqual([false, false, false]);
      // Still the caller's to change, and the same objects make a valid instance once fixed.
      tags.push('late');
      const order = new Order(lines, 0);
      expect(order.lines[0]?.tags).toEqual(['gift', 'late']);
      expect(Object.isFrozen(tags)).toBe(true);
    });
  });

  describe('inheritance', () => {
    it('lets a @shareable subclass set its own fields, then freezes the whole instance', () => {
      @shareable
      class Point3 extends Point {
        readonly tags: string[];
        constructor(
          x: number,
          y: number,
          readonly z: number,
        ) {
          super(x, y);
          this.tags = ['3d'];
        }
      }
      const point = new Point3(1, 2, 3);
      expect([point.x, point.y, point.z, point.tags]).toEqual([1, 2, 3, ['3d']]);
      expect(Object.isFrozen(point)).toBe(true);
      expect(Object.isFrozen(point.tags)).toBe(true);
      expect(point).toBeInstanceOf(Point3);
      expect(point).toBeInstanceOf(Point);
      expect(isShareable(point)).toBe(true);
    });

    it('does not make an unmarked subclass shareable, and says to mark it @shareable', async () => {
      class Labelled extends Point {
        label = 'home';
      }
      const labelled = new Labelled(1, 2);
      expect(labelled).toBeInstanceOf(Point);
      expect(isShareable(labelled)).toBe(false);
      expect(() => assertShareable(labelled, 'place')).toThrow(
        'place is an instance of class Labelled, which is not @shareable; mark Labelled @shareable, or pass a frozen plain copy',
      );

      @Monitor
      class Map2D {
        @monitorMethod async pin(_point: Point): Promise<void> {}
      }
      await expect(new Map2D().pin(labelled)).rejects.toThrow(ShareabilityError);
      await expect(new Map2D().pin(labelled)).rejects.toThrow(/^Map2D\.pin: argument 0 is an instance of class Labelled, which is not @shareable; mark Labelled @shareable/);
    });
  });

  describe('misuse', () => {
    const FIX = 'decorate a class whose instances are values';

    it('refuses a method', () => {
      const error = definitionErrorFrom(() => {
        class Money {
          // @ts-expect-error a class decorator on a method
          @shareable total(): number {
            return 1;
          }
        }
        return Money;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toBe(`@shareable cannot decorate the method total; ${FIX}`);
    });

    it('refuses a field', () => {
      const error = definitionErrorFrom(() => {
        // Cast: legacy mode's compiler lets this one through while standard mode refuses it, and
        // what is tested here is the run-time refusal.
        const onField = shareable as unknown as (...args: unknown[]) => void;
        class Money {
          @onField cents = 0;
        }
        return Money;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toBe(`@shareable cannot decorate the field cents; ${FIX}`);
    });

    it('refuses a getter, calling it a getter', () => {
      const error = definitionErrorFrom(() => {
        class Money {
          // @ts-expect-error a class decorator on a getter
          @shareable get total(): number {
            return 1;
          }
        }
        return Money;
      });
      expect(error.code).toBe('ERR_DECORATOR_MISUSE');
      expect(error.message).toBe(`@shareable cannot decorate the getter total; ${FIX}`);
    });

    it('refuses a class that is also a @Monitor, in either order: a class is one or the other', () => {
      const shareableOverMonitor = definitionErrorFrom(() => {
        @shareable
        @Monitor
        class Account {
          @monitorMethod async balance(): Promise<number> {
            return 0;
          }
        }
        return Account;
      });
      expect(shareableOverMonitor.code).toBe('ERR_DECORATOR_MISUSE');
      expect(shareableOverMonitor.message).toBe(
        '@shareable cannot decorate the @Monitor class Account; a class is either a monitor (state on one thread) or a shareable value, not both',
      );

      const monitorOverShareable = definitionErrorFrom(() => {
        @Monitor
        @shareable
        class Account {
          @monitorMethod async balance(): Promise<number> {
            return 0;
          }
        }
        return Account;
      });
      expect(monitorOverShareable.code).toBe('ERR_DECORATOR_MISUSE');
      expect(monitorOverShareable.message).toBe(
        '@Monitor cannot decorate the @shareable class Account; a class is either a monitor (state on one thread) or a shareable value, not both',
      );
    });
  });

  describe('the class itself', () => {
    it('keeps instanceof, its name, its static and prototype methods', () => {
      const point = new Point(1, 2);
      expect(point instanceof Point).toBe(true);
      expect(point.constructor).toBe(Point);
      expect(Point.name).toBe('Point');
      const origin = Point.origin();
      expect(origin).toBeInstanceOf(Point);
      expect(Object.isFrozen(origin)).toBe(true);
      const sum = point.plus(new Point(10, 20));
      expect(sum).toBeInstanceOf(Point);
      expect(Object.isFrozen(sum)).toBe(true);
      expect([sum.x, sum.y]).toEqual([11, 22]);
    });
  });
});
