import fc from 'fast-check';
import { serialize } from 'node:v8';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { assertShareable, branch, CancellationSource, CancellationToken, DefinitionError, freeze, isShareable, shareable, ShareabilityError, shutdown } from '../../lib';
import { decode, encode } from '../../lib/threads/serialize';
import type { Encoded } from '../../lib/threads/protocol';
import { Box } from './fixtures/boxes';

/**
 * What is accepted arrives equal (same data, same sharing, same kinds of prototype, null ones
 * included, frozen), deep and cyclic values cross intact or are refused up front, a value that
 * arrived holds to the depth limit when it is nested again, and freeze() checks before it freezes.
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
  if (['array', 'object', 'null-prototype'].includes(kindOf(received)) && !Object.isFrozen(received)) differ('arrived unfrozen');
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

/** V8 serialization bytes of `[[[...0...]]]`, `depth` arrays deep, written by hand: v8.serialize would overflow making them. */
function craftedDeepBytes(depth: number): Buffer {
  const header = serialize(0).subarray(0, 2);
  const open = Buffer.from([0x41, 0x01]); // a dense array of one element
  const close = Buffer.from([0x24, 0x00, 0x01]); // its end: no named properties, one element
  return Buffer.concat([header, ...new Array<Buffer>(depth).fill(open), Buffer.from([0x49, 0x00]), ...new Array<Buffer>(depth).fill(close)]);
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

  it('remembers how deeply a value that arrived nests, so nesting it again on the receiving thread cannot grow past the limit', async () => {
    const arrived = overTheWire(frozenChain(800));
    expect(isShareable(arrived)).toBe(true);
    expect(isShareable(frozenChain(150, arrived))).toBe(true);
    expect(() => assertShareable(frozenChain(300, arrived), 'tree')).toThrow(/nested more than 1000 levels deep/);
    // The same from a real thread, through a @shareable instance and a part shared with memory.
    const echoed = await echoedByAThread(frozenChain(700, new Box(frozenChain(100, Object.freeze([new SharedArrayBuffer(4)])))));
    expect(isShareable(frozenChain(150, echoed))).toBe(true);
    expect(isShareable(frozenChain(250, echoed))).toBe(false);
    // ... and when the value goes out and back again, nested a little more each time.
    let value: unknown = Object.freeze({ leaf: new CancellationSource().token });
    for (let trip = 0; trip < 6; trip++) {
      const next = frozenChain(200, value);
      if (!isShareable(next)) break;
      value = await echoedByAThread(next);
    }
    let depth = 0;
    for (let part = value as { next?: unknown }; typeof part.next === 'object'; part = part.next as { next?: unknown }) depth++;
    expect(depth).toBeGreaterThanOrEqual(800);
    expect(depth).toBeLessThanOrEqual(1000);
  });

  it('counts a part reached by two paths at its deepest, so every part holds to the limit when it is sent on its own', () => {
    const end = frozenChain(600);
    // `end` is met first by the short path; the long one reaches it 601 levels down.
    expect(isShareable(Object.freeze({ short: end, long: frozenChain(600, end) }))).toBe(false);
    const near = frozenChain(400);
    const both = Object.freeze({ short: near, long: frozenChain(400, near) });
    expect(isShareable(both)).toBe(true);
    expect(isShareable(frozenChain(300, both.long))).toBe(false);
    const received = overTheWire(both) as typeof both;
    expect(isShareable(frozenChain(150, received.long))).toBe(true);
    expect(isShareable(frozenChain(300, received.long))).toBe(false);
  });

  it('refuses, with a ShareabilityError naming the depth, a value that arrives nested deeper than any checked value can be', () => {
    for (const depth of [1200, 10_000, 100_000]) {
      const crafted = { plain: mutableChain(depth) } as Encoded;
      expect(() => decode(crafted)).toThrow(ShareabilityError);
      expect(() => decode(crafted)).toThrow(/a value that arrived on .* is nested more than 1000 levels deep/);
    }
    // Also when it arrives as the bytes of a large value, too deep even to deserialize.
    const bytes = craftedDeepBytes(100_000);
    const memory = new SharedArrayBuffer(bytes.length);
    new Uint8Array(memory).set(bytes);
    expect(() => decode({ bytes: memory, length: bytes.length })).toThrow(/a value that arrived on .* is nested too deeply to be read/);
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

  it('freezes an object held in a named property of an array, with or without special values beside it', async () => {
    for (const list of [Object.freeze(Object.assign([1, 2], { meta: Object.freeze({ by: 'me' }) })), Object.freeze(Object.assign([new CancellationSource().token], { meta: Object.freeze({ by: 'me' }) }))]) {
      expect(isShareable(list)).toBe(true);
      const received = overTheWire(list) as typeof list;
      expectSameShape(list, received);
      expect(Object.isFrozen(received.meta)).toBe(true);
      const echoed = await echoedByAThread(list);
      expect(echoed.meta).toEqual({ by: 'me' });
      expect(Object.isFrozen(echoed.meta)).toBe(true);
    }
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

  it('keeps a null prototype, at the root or deep inside, reached twice, beside special values and inside @shareable instances', () => {
    const record = Object.freeze(Object.assign(Object.create(null) as object, { a: 1 }));
    expect(Object.getPrototypeOf(overTheWire(record))).toBeNull();
    const token = new CancellationSource().token;
    const inner = Object.freeze(Object.assign(Object.create(null) as object, { token, list: Object.freeze([record]) }));
    const value = Object.freeze({ inner, again: inner, box: new Box(Object.freeze({ record })), list: Object.freeze([1, record]) });
    expect(isShareable(value)).toBe(true);
    const received = overTheWire(value) as typeof value;
    expectSameShape(value, received);
    expect(Object.getPrototypeOf(received.inner)).toBeNull();
    expect(Object.getPrototypeOf(received.list[1])).toBeNull();
    expect(Object.getPrototypeOf((received.box.content as { record: object }).record)).toBeNull();
    expect(isShareable(received)).toBe(true);
    // It goes on from the receiving thread with its null prototypes too.
    expectSameShape(value, overTheWire(received));
  });

  it('keeps a null prototype on its way to a pool thread and back, and in what the child makes there', async () => {
    const settings = Object.freeze(Object.assign(Object.create(null) as object, { retries: 3, nested: Object.freeze(Object.assign(Object.create(null) as object, { on: true })) }));
    const echoed = await echoedByAThread(Object.freeze({ settings }));
    expectSameShape({ settings }, echoed);
    const [seen] = await branch<readonly [boolean, boolean]>((children) => {
      children.add((value: { settings: { nested: object } }) => Object.freeze([Object.getPrototypeOf(value.settings) === null, Object.getPrototypeOf(value.settings.nested) === null] as const), Object.freeze({ settings }));
    });
    expect(seen).toEqual([true, true]);
    const [made] = await branch<object>((children) => {
      children.add(() => Object.freeze(Object.assign(Object.create(null) as object, { made: 'there' })));
    });
    expect(Object.getPrototypeOf(made)).toBeNull();
    expect({ ...made }).toEqual({ made: 'there' });
  });

  it('refuses a crafted null-prototype path that does not lead to a plain object of the value', () => {
    for (const path of [['__proto__'], ['constructor'], ['missing'], ['list'], ['n']]) {
      const crafted = { value: { list: [1], n: 1 }, specials: [], nullPrototypes: [path] } as unknown as Encoded;
      expect(() => decode(crafted)).toThrow(/null-prototype object at the path/);
    }
    expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('keeps a part a @shareable instance shares with the rest of the value as one object, special values and all', async () => {
    const token = new CancellationSource().token;
    const shared = Object.freeze({ token, memory: new SharedArrayBuffer(4) });
    const plainShared = Object.freeze({ n: 1 });
    for (const value of [
      Object.freeze({ box: new Box(shared), outside: shared, plainBox: new Box(plainShared), plainOutside: plainShared, token }),
      Object.freeze({ outside: shared, box: new Box(shared), plainOutside: plainShared, plainBox: new Box(plainShared), token }),
    ]) {
      const received = overTheWire(value) as typeof value;
      expectSameShape(value, received);
      expect(received.box.content).toBe(received.outside);
      expect(received.plainBox.content).toBe(received.plainOutside);
      expect((received.outside as typeof shared).token).toBe(received.token);
      const echoed = await echoedByAThread(value);
      expect(echoed.box).toBeInstanceOf(Box);
      expect(echoed.box.content).toBe(echoed.outside);
      expect(echoed.plainBox.content).toBe(echoed.plainOutside);
      expect((echoed.outside as typeof shared).token).toBe(echoed.token);
    }
    // Two instances that share a part, and an instance reached twice.
    const both = Object.freeze([new Box(shared), new Box(shared)]);
    const pair = overTheWire(both) as typeof both;
    expect(pair[0]?.content).toBe(pair[1]?.content);
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
      const record: Record<string, unknown> = recipe.nullPrototype ? (Object.create(null) as Record<string, unknown>) : {};
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
