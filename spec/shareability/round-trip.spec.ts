import fc from 'fast-check';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { assertShareable, branch, CancellationSource, CancellationToken, DefinitionError, freeze, isShareable, shareable, ShareabilityError, shutdown } from '../../lib';
import { decode, encode } from '../../lib/threads/serialize';
import type { Encoded } from '../../lib/threads/protocol';

/**
 * What is accepted arrives equal (same data, same sharing, same kinds of prototype), deep and
 * cyclic values cross intact or are refused up front, and freeze() checks before it freezes.
 */

/** One port pair for the whole file: each value is posted and received at once, as a thread would get it. */
const wire = new MessageChannel();

/** `value` as it arrives on another thread: encoded, carried by structured clone over a real port, decoded. */
function overTheWire(value: unknown): unknown {
  wire.port1.postMessage(encode(value, []));
  return decode((receiveMessageOnPort(wire.port2) as { message: Encoded }).message);
}

/** A value's own kind of prototype, realm-independent. */
function kindOf(value: object): string {
  if (Array.isArray(value)) return 'array';
  if (value instanceof CancellationToken) return 'token';
  if (Object.prototype.toString.call(value) === '[object SharedArrayBuffer]') return 'SharedArrayBuffer';
  if (ArrayBuffer.isView(value)) return (value.constructor as Function).name;
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === null) return 'null-prototype';
  const constructor = (prototype as { constructor?: Function }).constructor;
  return constructor?.name === 'Object' ? 'object' : `class ${constructor?.name ?? '?'}`;
}

function bytesOf(memory: ArrayBufferLike, offset = 0, length = memory.byteLength): string {
  return new Uint8Array(memory, offset, length).join(',');
}

/**
 * Throws unless `received` has the data and the shape of `sent`: same keys in the same order, same
 * values, same kinds of prototype, and the same objects shared the same way (cycles included).
 * Plain comparisons, not expect(), so that the fuzz below stays fast.
 */
function expectSameShape(sent: unknown, received: unknown, pairs = new Map<object, object>(), path = 'value'): void {
  const differ = (what: string): never => {
    throw new Error(`${path}: ${what}`);
  };
  if (typeof sent !== 'object' || sent === null) {
    if (!Object.is(sent, received)) differ(`sent ${String(sent)}, received ${String(received)}`);
    return;
  }
  if (typeof received !== 'object' || received === null) return differ(`sent an object, received ${String(received)}`);
  const paired = pairs.get(sent);
  if (paired !== undefined) {
    if (paired !== received) differ('an object reached twice arrived as two copies');
    return;
  }
  pairs.set(sent, received);
  if (kindOf(received) !== kindOf(sent)) differ(`sent ${kindOf(sent)}, received ${kindOf(received)}`);
  if (sent instanceof CancellationToken) {
    if ((received as CancellationToken).cancelled !== sent.cancelled) differ('token state differs');
    return;
  }
  if (ArrayBuffer.isView(sent)) {
    const view = received as ArrayBufferView;
    if (bytesOf(view.buffer, view.byteOffset, view.byteLength) !== bytesOf(sent.buffer, sent.byteOffset, sent.byteLength)) differ('bytes differ');
    expectSameShape(sent.buffer, view.buffer, pairs, `${path}.buffer`);
    return;
  }
  if (kindOf(sent) === 'SharedArrayBuffer') {
    if (bytesOf(received as SharedArrayBuffer) !== bytesOf(sent as SharedArrayBuffer)) differ('bytes differ');
    return;
  }
  const sentKeys = Reflect.ownKeys(sent).map(String).join('|');
  const receivedKeys = Reflect.ownKeys(received).map(String).join('|');
  if (sentKeys !== receivedKeys) differ(`sent keys ${sentKeys}, received ${receivedKeys}`);
  for (const key of Object.keys(sent)) {
    expectSameShape((sent as Record<string, unknown>)[key], (received as Record<string, unknown>)[key], pairs, `${path}[${JSON.stringify(key)}]`);
  }
}

/** Every plain object and array reachable from `value`, each once. */
function plainObjectsIn(value: unknown, found = new Set<object>()): Set<object> {
  if (typeof value !== 'object' || value === null || found.has(value)) return found;
  if (!Array.isArray(value) && kindOf(value) !== 'object' && kindOf(value) !== 'null-prototype') return found;
  found.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && 'value' in descriptor) plainObjectsIn(descriptor.value, found);
  }
  return found;
}

/** A frozen chain `{ next: { next: ... } }` `depth` levels deep, built without recursion. */
function frozenChain(depth: number, end: unknown = 0): unknown {
  let value: unknown = end;
  for (let level = 0; level < depth; level++) value = Object.freeze({ next: value });
  return value;
}

function mutableChain(depth: number): unknown {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = { next: value };
  return value;
}

/** Runs `value` through a pool thread and back. */
async function echoedByAThread<T>(value: T): Promise<T> {
  const [echoed] = await branch((children) => {
    children.add((v: unknown) => v, value);
  });
  return echoed as T;
}

afterAll(async () => {
  wire.port1.close();
  wire.port2.close();
  await shutdown();
});

describe('deep values', () => {
  it('refuses a value nested past the limit with a ShareabilityError naming the depth, instead of overflowing the stack', () => {
    const deep = frozenChain(5000);
    expect(isShareable(deep)).toBe(false);
    expect(() => assertShareable(deep, 'tree')).toThrow(ShareabilityError);
    expect(() => assertShareable(deep, 'tree')).toThrow(/nested more than 1000 levels deep/);
    expect(() => assertShareable(deep, 'tree')).toThrow(/levels down/);
  });

  it('refuses a deep mutable value in freeze() without freezing any of it', () => {
    const deep = mutableChain(5000) as { next: unknown };
    expect(() => freeze(deep)).toThrow(/nested more than 1000 levels deep/);
    expect(Object.isFrozen(deep)).toBe(false);
    expect(Object.isFrozen(deep.next)).toBe(false);
  });

  it('counts the depth of parts verified earlier, so nesting verified values cannot grow past the limit', () => {
    const part = frozenChain(800);
    expect(isShareable(part)).toBe(true);
    expect(isShareable(frozenChain(100, part))).toBe(true);
    expect(isShareable(frozenChain(300, part))).toBe(false);
  });

  it('lets a value just under the limit cross intact', () => {
    const deep = frozenChain(900, Object.freeze([new SharedArrayBuffer(4)]));
    expect(isShareable(deep)).toBe(true);
    expectSameShape(deep, overTheWire(deep));
  });
});

describe('cycles', () => {
  it('carries a frozen cycle that holds shared memory and a token, cycle and all', async () => {
    const memory = new SharedArrayBuffer(8);
    const token = new CancellationSource().token;
    const node: { self?: unknown; memory: SharedArrayBuffer; token: CancellationToken; view: Int32Array } = { memory, token, view: new Int32Array(memory) };
    node.self = node;
    Object.freeze(node);
    expect(isShareable(node)).toBe(true);
    expectSameShape(node, overTheWire(node));
    const echoed = await echoedByAThread(node);
    expectSameShape(node, echoed);
    expect(echoed.self).toBe(echoed);
  });

  it('carries a frozen cycle that holds a @shareable instance, and the instance reached twice as one', () => {
    @shareable
    class Spot {
      constructor(readonly x: number) {}
    }
    const spot = new Spot(1);
    const ring: { next?: unknown; spot: Spot; again: Spot } = { spot, again: spot };
    ring.next = Object.freeze({ back: ring });
    Object.freeze(ring);
    expect(isShareable(ring)).toBe(true);
    const received = overTheWire(ring) as typeof ring;
    expectSameShape(ring, received);
    expect(received.spot).toBeInstanceOf(Spot);
    expect(received.spot.x).toBe(1);
  });

  it('refuses a cycle through a @shareable instance when the instance is made', () => {
    @shareable
    class Owner {
      readonly back: unknown;
      constructor() {
        this.back = Object.freeze({ owner: this });
      }
    }
    expect(() => new Owner()).toThrow(/a cycle through a @shareable instance/);
  });
});

describe('copies equal what was sent', () => {
  it('keeps named properties of an array that holds a special value', async () => {
    const list = Object.assign([new CancellationSource().token, 1], { label: 'tokens' });
    Object.freeze(list);
    expect(isShareable(list)).toBe(true);
    expectSameShape(list, overTheWire(list));
    expect((await echoedByAThread(list)).label).toBe('tokens');
  });

  it('keeps a sub-object reached twice as one object, and a special value reached twice as one', async () => {
    const token = new CancellationSource().token;
    const shared = Object.freeze({ token });
    const value = Object.freeze({ a: shared, b: shared, c: token });
    expectSameShape(value, overTheWire(value));
    const echoed = await echoedByAThread(value);
    expect(echoed.a).toBe(echoed.b);
    expect(echoed.a.token).toBe(echoed.c);
  });

  it('refuses, when the class is decorated, a @shareable class with a private instance member', () => {
    expect(() => {
      @shareable
      class Tally {
        #count = 0;
        bump(): number {
          return ++this.#count;
        }
      }
      return Tally;
    }).toThrow(DefinitionError);
    expect(() => {
      @shareable
      class WithPrivateMethod {
        constructor(readonly x: number) {}
        #twice(): number {
          return this.x * 2;
        }
        twice(): number {
          return this.#twice();
        }
      }
      return WithPrivateMethod;
    }).toThrow(/private instance member #twice/);
  });

  it('accepts a @shareable class with only static private members', () => {
    @shareable
    class Registry {
      static #unit = 'cm';
      constructor(readonly id: number) {}
      static unit(): string {
        return Registry.#unit;
      }
    }
    expect(isShareable(new Registry(1))).toBe(true);
  });

  // Structured clone gives every plain object Object.prototype; keeping null needs a field in the
  // wire format (threads/protocol.ts), which this change does not own.
  it.failing('keeps a null prototype (not done yet)', () => {
    const record = Object.freeze(Object.assign(Object.create(null) as object, { a: 1 }));
    expect(Object.getPrototypeOf(overTheWire(record))).toBeNull();
  });
});

describe('freeze() checks first, then freezes', () => {
  it('never freezes Object.prototype or Array.prototype', () => {
    expect(() => freeze({ p: Object.prototype })).toThrow(/a prototype object/);
    expect(() => freeze([Array.prototype])).toThrow(/a prototype object/);
    expect(Object.isFrozen(Object.prototype)).toBe(false);
    expect(Object.isFrozen(Array.prototype)).toBe(false);
    expect(isShareable(Object.prototype)).toBe(false);
  });

  it('leaves a value it refuses exactly as it was', () => {
    const inner = { list: [1, 2] };
    const value = { inner, later: new Map() };
    expect(() => freeze(value)).toThrow(ShareabilityError);
    expect([value, inner, inner.list].map((each) => Object.isFrozen(each))).toEqual([false, false, false]);
  });
});

describe('decoding refuses paths that would write to a prototype', () => {
  it.each([['__proto__'], ['constructor'], ['prototype']])('refuses a marker path through %s and leaves Object.prototype alone', (step) => {
    const encoded = encode(freeze({ t: new CancellationSource().token }), []) as { value: unknown; specials: { path: unknown[]; marker: unknown }[] };
    expect(encoded.specials).toHaveLength(1);
    const crafted = { value: { t: null }, specials: [{ path: [step, 'polluted'], marker: encoded.specials[0]?.marker }] } as unknown as Encoded;
    expect(() => decode(crafted)).toThrow(/does not lead through its own data/);
    expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((Object as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('every accepted value round-trips equal (fuzz)', () => {
  type Recipe =
    | { readonly leaf: unknown }
    | { readonly special: 'memory' | 'view' | 'token' | 'function' | 'map' | 'date' | 'prototype' }
    | { readonly array: readonly Recipe[]; readonly named: readonly (readonly [string, Recipe])[] }
    | { readonly record: readonly (readonly [string, Recipe])[]; readonly nullPrototype: boolean };

  const key = fc.oneof(fc.constantFrom('a', 'b', 'next', 'length2', 'x y', '0'), fc.string({ maxLength: 4 })).filter((k) => k !== '__proto__');
  const { recipe } = fc.letrec<{ recipe: Recipe }>((tie) => ({
    recipe: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ leaf: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt()) }),
      fc.record({ special: fc.constantFrom('memory', 'view', 'token', 'function', 'map', 'date', 'prototype') as fc.Arbitrary<'memory'> }),
      fc.record({ array: fc.array(tie('recipe'), { maxLength: 4 }), named: fc.array(fc.tuple(key.filter((k) => !/^\d+$/.test(k) && k !== 'length'), tie('recipe')), { maxLength: 2 }) }),
      fc.record({ record: fc.array(fc.tuple(key, tie('recipe')), { maxLength: 4 }), nullPrototype: fc.boolean() }),
    ),
  }));

  /** Builds a value from a recipe; `choices` decide which places reuse an object already made (shared parts, cycles) and what is frozen. */
  function build(root: Recipe, choices: readonly number[]): { value: unknown; made: object[] } {
    let next = 0;
    const choose = (): number => choices[next++ % choices.length] ?? 0;
    const made: object[] = [];
    const memory = new SharedArrayBuffer(8);
    const source = new CancellationSource();
    const make = (recipe: Recipe): unknown => {
      if (made.length > 0 && choose() % 6 === 0) return made[choose() % made.length];
      if ('leaf' in recipe) return recipe.leaf;
      if ('special' in recipe) {
        switch (recipe.special) {
          case 'memory':
            return memory;
          case 'view':
            return new Int32Array(memory, 4, 1);
          case 'token':
            return choose() % 2 === 0 ? source.token : CancellationToken.none;
          case 'function':
            return () => 1;
          case 'map':
            return new Map();
          case 'date':
            return new Date(0);
          case 'prototype':
            return choose() % 2 === 0 ? Object.prototype : Array.prototype;
        }
      }
      if ('array' in recipe) {
        const array: unknown[] = [];
        made.push(array);
        recipe.array.forEach((each, index) => {
          if (choose() % 7 !== 0) array[index] = make(each); // else a hole
        });
        array.length = recipe.array.length;
        for (const [name, each] of recipe.named) (array as unknown as Record<string, unknown>)[name] = make(each);
        return array;
      }
      // Null prototypes are left out until they can cross (see the it.failing above).
      const record: Record<string, unknown> = {};
      made.push(record);
      for (const [name, each] of recipe.record) record[name] = make(each);
      return record;
    };
    const value = make(root);
    const freezeAll = choose() % 3 !== 0;
    for (const object of made) if (freezeAll || choose() % 2 === 0) Object.freeze(object);
    return { value, made };
  }

  it('accepts only values that arrive equal, and freeze() either makes a value shareable or leaves it untouched', () => {
    let accepted = 0;
    fc.assert(
      fc.property(recipe, fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (root, choices) => {
        const { value } = build(root, choices);
        if (isShareable(value)) {
          accepted++;
          expectSameShape(value, overTheWire(value));
        }
        const objects = [...plainObjectsIn(value)];
        const frozenBefore = objects.map((each) => Object.isFrozen(each));
        let frozen = false;
        try {
          freeze(value);
          frozen = true;
        } catch (error) {
          if (!(error instanceof ShareabilityError)) throw error;
          if (objects.some((each, index) => Object.isFrozen(each) !== frozenBefore[index])) throw new Error('freeze() froze part of a value it refused');
        }
        if (frozen) {
          if (!isShareable(value)) throw new Error('freeze() returned a value that is not shareable');
          expectSameShape(value, overTheWire(value));
        }
        if (Object.isFrozen(Object.prototype) || Object.isFrozen(Array.prototype)) throw new Error('a built-in prototype was frozen');
      }),
      { seed: 20261203, numRuns: 10_000 },
    );
    expect(accepted).toBeGreaterThan(1000);
  });
});
