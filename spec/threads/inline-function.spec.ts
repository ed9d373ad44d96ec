import * as os from 'node:os';
import { DefinitionError } from '../../lib/errors/definition-error';
import { compileInline, inlineSource } from '../../lib/threads/inline-function';

/** Ships `fn` the way children.add does: to source text, then rebuilt from it. */
function roundTrip<F extends (...args: never[]) => unknown>(fn: F): F {
  return compileInline(inlineSource(fn, 'children.add(fn)')) as unknown as F;
}

/** The DefinitionError inlineSource throws for `fn`; fails the test if it accepts `fn`. */
function refusal(fn: Function): DefinitionError {
  try {
    inlineSource(fn, 'children.add(fn)');
  } catch (error) {
    if (error instanceof DefinitionError) return error;
    throw error;
  }
  throw new Error(`inlineSource accepted ${String(fn)}`);
}

// Variables of this module: a shipped function that uses them has a free variable.
const factor = 3;
function helper(x: number): number {
  return x * factor;
}

describe('inlineSource', () => {
  describe('accepted functions round-trip', () => {
    it('rebuilds an arrow function', () => {
      const double = (x: number): number => x * 2;
      const rebuilt = roundTrip(double);
      expect(rebuilt).not.toBe(double);
      expect(rebuilt(21)).toBe(42);
    });

    it('rebuilds an async arrow function', async () => {
      const rebuilt = roundTrip(async (x: number) => {
        await Promise.resolve();
        return x + 1;
      });
      await expect(rebuilt(41)).resolves.toBe(42);
    });

    it('rebuilds an anonymous function expression', () => {
      const add = function (a: number, b: number): number {
        return a + b;
      };
      expect(roundTrip(add)(40, 2)).toBe(42);
    });

    it('rebuilds a named function that calls itself by name', () => {
      const factorial = function fact(n: number): number {
        return n <= 1 ? 1 : n * fact(n - 1);
      };
      expect(roundTrip(factorial)(5)).toBe(120);
    });

    it('rebuilds a function declaration', () => {
      function sumTo(n: number): number {
        let total = 0;
        for (let i = 1; i <= n; i++) total += i;
        return total;
      }
      expect(inlineSource(sumTo, 'sumTo')).toMatch(/^function sumTo/);
      expect(roundTrip(sumTo)(10)).toBe(55);
    });

    it('rebuilds async functions, generators and async generators', async () => {
      const asyncFn = async function (x: number): Promise<number> {
        return x * 10;
      };
      const generator = function* (n: number): Generator<number> {
        for (let i = 0; i < n; i++) yield i;
      };
      const asyncGenerator = async function* (n: number): AsyncGenerator<number> {
        for (let i = 0; i < n; i++) yield i * 2;
      };
      await expect(roundTrip(asyncFn)(4)).resolves.toBe(40);
      expect([...roundTrip(generator)(3)]).toEqual([0, 1, 2]);
      const collected: number[] = [];
      for await (const value of roundTrip(asyncGenerator)(3)) collected.push(value);
      expect(collected).toEqual([0, 2, 4]);
    });

    it('turns method shorthand into a function expression', async () => {
      const methods = {
        triple(x: number): number {
          return x * 3;
        },
        async later(x: number): Promise<number> {
          return x + 100;
        },
        *count(n: number): Generator<number> {
          for (let i = n; i > 0; i--) yield i;
        },
        get(key: string): string {
          return `got ${key}`;
        },
      };
      expect(inlineSource(methods.triple, 'triple')).toMatch(/^function\s*\(x\)/);
      expect(roundTrip(methods.triple)(14)).toBe(42);
      await expect(roundTrip(methods.later)(1)).resolves.toBe(101);
      expect([...roundTrip(methods.count)(3)]).toEqual([3, 2, 1]);
      expect(roundTrip(methods.get)('a')).toBe('got a');
    });

    it('turns methods with computed, quoted and numeric names into function expressions', () => {
      const key = 'computed key';
      const methods = {
        [key](x: number): number {
          return x - 1;
        },
        'quoted name'(x: number): number {
          return x + 1;
        },
        7(x: number): number {
          return x * 7;
        },
      };
      expect(roundTrip(methods[key])(43)).toBe(42);
      expect(roundTrip(methods['quoted name'])(41)).toBe(42);
      expect(roundTrip(methods[7])(6)).toBe(42);
    });

    it('declares destructured parameters with defaults and rest elements', () => {
      const describeOrder = (
        { id, items: [first, ...others] = ['none'], ...extra }: { id: number; items?: string[]; note?: string },
        scale = id * 2,
      ): string => `${id}:${first}:${others.length}:${JSON.stringify(extra)}:${scale}`;
      const rebuilt = roundTrip(describeOrder);
      expect(rebuilt({ id: 1 })).toBe('1:none:0:{}:2');
      expect(rebuilt({ id: 2, items: ['a', 'b', 'c'], note: 'n' }, 9)).toBe('2:a:2:{"note":"n"}:9');
    });

    it('declares nested functions, closures, classes and catch parameters inside the function', () => {
      const compute = (n: number): number[] => {
        const adder = (k: number) => (x: number) => x + k;
        function twice(value: number): number {
          return value * 2;
        }
        class Box {
          constructor(readonly value: number) {}
          unwrap(): number {
            return this.value;
          }
        }
        let caught = 0;
        try {
          throw new RangeError('boom');
        } catch (error) {
          caught = (error as Error).message.length;
        }
        outer: for (const i of [1, 2]) {
          for (const j of [1, 2]) if (i + j > 2) continue outer;
        }
        return [twice(adder(n)(1)), new Box(n).unwrap(), caught];
      };
      expect(roundTrip(compute)(4)).toEqual([10, 4, 4]);
    });

    it('gives the function require, Math, JSON, Array, Promise and setTimeout', async () => {
      const work = async (values: number[]): Promise<string> => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const { EOL } = require('node:os') as typeof import('node:os');
        return JSON.stringify(Array.from(values, (v) => Math.max(v, 0))) + EOL;
      };
      await expect(roundTrip(work)([-1, 2])).resolves.toBe(`[0,2]${os.EOL}`);
    });

    it('gives non-arrow functions their own arguments', () => {
      const count = function (): number {
        return arguments.length;
      };
      expect(roundTrip(count)()).toBe(0);
      expect((roundTrip(count) as (...args: unknown[]) => number)(1, 2, 3)).toBe(3);
    });

    it('does not take property names for variables', () => {
      const read = (obj: { factor: number }): number => {
        const literal = { factor: 1, helper: 2 };
        class Scaled {
          factor = 10;
          helper(): number {
            return this.factor;
          }
        }
        return obj.factor + literal.factor + literal.helper + new Scaled().helper();
      };
      expect(roundTrip(read)({ factor: 5 })).toBe(18);
    });

    it('does not refuse a name shadowed by a parameter or a local declaration', () => {
      const byParameter = (factor: number): number => factor * 2;
      const byLocal = (x: number): number => {
        const factor = 2;
        function helper(y: number): number {
          return y + factor;
        }
        return helper(x);
      };
      expect(roundTrip(byParameter)(5)).toBe(10);
      expect(roundTrip(byLocal)(5)).toBe(7);
    });
  });

  describe('free variables are refused before anything runs', () => {
    it('names a module variable the function uses, and the fix', () => {
      const error = refusal((x: number) => x * factor);
      expect(error.code).toBe('ERR_FREE_VARIABLE');
      expect(error.message).toContain('children.add(fn) uses the variable `factor`');
      expect(error.message).toContain('pass it as an argument');
      expect(error.message).toContain('task(fn)');
    });

    it('names a module function the function calls', () => {
      expect(refusal((x: number) => helper(x)).message).toContain('`helper`');
    });

    it('names the first free variable in the source', () => {
      const local = 1;
      const other = 2;
      expect(refusal(() => local + other).message).toContain('`local`');
    });

    it('finds free variables in parameter defaults and nested functions', () => {
      expect(refusal((x = factor) => x).message).toContain('`factor`');
      expect(refusal((xs: number[]) => xs.map((y) => y * factor)).message).toContain('`factor`');
      expect(
        refusal(function outer() {
          return function inner() {
            return factor;
          };
        }).message,
      ).toContain('`factor`');
    });

    it('finds free variables in shorthand properties, computed keys and member expressions', () => {
      expect(refusal(() => ({ factor })).message).toContain('`factor`');
      expect(refusal((obj: Record<number, number>) => obj[factor]).message).toContain('`factor`');
      expect(refusal(() => ({ [factor]: 1 })).message).toContain('`factor`');
    });

    it('refuses typeof of an undeclared name, which would be undefined on the other thread', () => {
      expect(refusal(() => typeof factor).message).toContain('`factor`');
    });

    it('refuses a name declared only in a nested function', () => {
      const fn = (x: number): number => {
        const inner = (factor: number) => factor;
        return inner(x) + factor;
      };
      expect(refusal(fn).message).toContain('`factor`');
    });

    it("refuses an arrow function's arguments, which belong to the function around it", () => {
      const arrow = (function () {
        return () => arguments.length;
      })();
      expect(refusal(arrow).message).toContain('`arguments`');
    });

    it('refuses module-scope names of CommonJS', () => {
      expect(refusal(() => __dirname).message).toContain('`__dirname`');
      expect(refusal(() => module.id).message).toContain('`module`');
    });
  });

  describe('functions that cannot be rebuilt from source are refused', () => {
    it('refuses built-in and bound functions', () => {
      for (const fn of [Math.max, ((x: number) => x).bind(null)]) {
        const error = refusal(fn);
        expect(error.code).toBe('ERR_NOT_PORTABLE_FUNCTION');
        expect(error.message).toContain('built-in or bound function');
        expect(error.message).toContain('task(fn)');
      }
    });

    it('refuses a class', () => {
      class Point {}
      const error = refusal(Point);
      expect(error.code).toBe('ERR_NOT_PORTABLE_FUNCTION');
      expect(error.message).toContain('it is a class');
    });

    it('refuses getters and setters', () => {
      const holder = {
        get value(): number {
          return 1;
        },
        set value(_v: number) {},
      };
      const descriptor = Object.getOwnPropertyDescriptor(holder, 'value');
      expect(refusal(descriptor?.get as Function).message).toContain('it is a getter');
      expect(refusal(descriptor?.set as Function).message).toContain('it is a setter');
    });

    it('refuses a method that uses super', () => {
      const methods = {
        describe(): string {
          return super.toString();
        },
      };
      const error = refusal(methods.describe);
      expect(error.code).toBe('ERR_NOT_PORTABLE_FUNCTION');
      expect(error.message).toContain('cannot be rebuilt as a function');
    });
  });
});

describe('compileInline', () => {
  it('gives the rebuilt function require', () => {
    const platform = compileInline("() => require('node:os').platform()");
    expect(platform()).toBe(os.platform());
  });

  it('throws a DefinitionError when the source is not a function', () => {
    expect(() => compileInline('42')).toThrow(DefinitionError);
    expect(() => compileInline('42')).toThrow('it evaluates to number, not a function');
  });
});
