import { CancellationSource, Channel, DefinitionError, freeze, isShareable, ShareabilityError, SharedDict, SharedDictError, shutdown } from '../../lib';
import { Money } from '../fixtures/shared-dicts';
import { Tally } from '../fixtures/monitors';

afterAll(() => shutdown());

describe('SharedDict on one thread', () => {
  it('gets, sets, deletes and counts like a Map', () => {
    const dict = new SharedDict<string, number>();
    expect(dict.size).toBe(0);
    expect(dict.get('a')).toBeUndefined();
    expect(dict.has('a')).toBe(false);
    expect(dict.set('a', 1)).toBe(dict);
    dict.set('b', 2).set('a', 3);
    expect(dict.get('a')).toBe(3);
    expect(dict.has('b')).toBe(true);
    expect(dict.size).toBe(2);
    expect(dict.delete('a')).toBe(true);
    expect(dict.delete('a')).toBe(false);
    expect(dict.has('a')).toBe(false);
    expect(dict.get('a')).toBeUndefined();
    expect(dict.size).toBe(1);
    dict.clear();
    expect(dict.size).toBe(0);
    expect(dict.get('b')).toBeUndefined();
  });

  it('holds undefined, null, booleans, bigints and -0 as values', () => {
    const dict = new SharedDict<string, unknown>();
    dict.set('u', undefined).set('n', null).set('t', true).set('f', false).set('b', 12n).set('z', -0).set('s', '');
    expect(dict.has('u')).toBe(true);
    expect(dict.get('u')).toBeUndefined();
    expect(dict.get('n')).toBeNull();
    expect([dict.get('t'), dict.get('f'), dict.get('b'), dict.get('s')]).toEqual([true, false, 12n, '']);
    expect(Object.is(dict.get('z'), -0)).toBe(true);
    expect(dict.size).toBe(7);
  });

  it('tells number keys from string keys, and -0 from nothing (it is 0)', () => {
    const dict = new SharedDict<string | number, string>();
    dict.set(1, 'number').set('1', 'string').set(0.5, 'half').set(-0, 'zero');
    expect(dict.get(1)).toBe('number');
    expect(dict.get('1')).toBe('string');
    expect(dict.get(0.5)).toBe('half');
    expect(dict.get(0)).toBe('zero');
    expect(new Map(dict.entries())).toEqual(
      new Map<string | number, string>([
        [1, 'number'],
        ['1', 'string'],
        [0.5, 'half'],
        [0, 'zero'],
      ]),
    );
  });

  it('keeps any string as a key, empty and non-ASCII ones included', () => {
    const dict = new SharedDict<string, number>();
    const keys = ['', 'ключ', '🔑', 'a'.repeat(300), '\u0000x'];
    keys.forEach((key, index) => dict.set(key, index));
    keys.forEach((key, index) => expect(dict.get(key)).toBe(index));
    expect([...dict.keys()].sort()).toEqual([...keys].sort());
  });

  it('reads back values frozen and equal to what was set', () => {
    const dict = new SharedDict<string, unknown>();
    const order = freeze({ id: 7, lines: [{ sku: 'A1', qty: 2 }], note: null, big: 10n, missing: undefined });
    dict.set('order', order);
    const other = SharedDict.revive(SharedDict.markerOf(dict)!) as SharedDict<string, unknown>;
    expect(other).toBe(dict); // one handle per dictionary on a thread
    const read = dict.get('order');
    expect(read).toEqual(order);
    expect(Object.isFrozen(read)).toBe(true);
    expect(isShareable(read)).toBe(true);
  });

  it('holds @shareable instances, which come back as instances of their class', () => {
    const dict = new SharedDict<string, Money>();
    dict.set('price', new Money(1250, 'EUR'));
    const values = [...dict.values()];
    expect(values[0]).toBeInstanceOf(Money);
    expect(values[0].show()).toBe('12.50 EUR');
    expect(dict.get('price')?.show()).toBe('12.50 EUR');
  });

  it('iterates over a snapshot: writes after it do not change what it gives', () => {
    const dict = new SharedDict<number, string>();
    for (let i = 0; i < 10; i++) dict.set(i, `v${i}`);
    const entries = dict.entries();
    const keys = dict.keys();
    dict.clear();
    dict.set(99, 'late');
    expect([...entries].sort(([a], [b]) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => [i, `v${i}`]));
    expect([...keys].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect([...dict]).toEqual([[99, 'late']]);
  });

  it('keeps every entry through many overwrites and deletes (compactions)', () => {
    const dict = new SharedDict<string, unknown>({ maxEntries: 64, maxBytes: 4096 });
    const expected = new Map<string, unknown>();
    for (let round = 0; round < 2000; round++) {
      const key = `k${(round * 7) % 50}`;
      if (round % 5 === 4) {
        expect(dict.delete(key)).toBe(expected.delete(key));
      } else {
        const value = freeze({ round, text: 'x'.repeat(round % 13) });
        dict.set(key, value);
        expected.set(key, value);
      }
    }
    expect(dict.size).toBe(expected.size);
    expect(new Map(dict.entries())).toEqual(expected);
    for (const [key, value] of expected) expect(dict.get(key)).toEqual(value);
  });

  it('refuses values that are not shareable with a ShareabilityError naming the path', () => {
    const dict = new SharedDict<string, unknown>();
    expect(() => dict.set('cart', { items: [1] })).toThrow(ShareabilityError);
    expect(() => dict.set("cart", Object.freeze({ items: Object.freeze([1, new Map()]) }))).toThrow(/SharedDict.set\("cart"\): value .items\[1\] is a Map/);
    expect(() => dict.set('f', () => 1)).toThrow(/is a function/);
    expect(dict.has('cart')).toBe(false);
  });

  it('refuses monitor references, channels, tokens and shared memory, saying to keep them in a monitor', () => {
    const dict = new SharedDict<string, unknown>();
    const refused = [
      ['tally', new Tally(), /value .tally is a monitor reference/],
      ['channel', new Channel<number>(1), /value .channel is a Channel/],
      ['token', new CancellationSource().token, /value .token is a CancellationToken/],
      ['memory', new SharedArrayBuffer(8), /value .memory is a SharedArrayBuffer/],
      ['dict', new SharedDict(), /value .dict is a SharedDict/],
    ] as const;
    for (const [name, value, message] of refused) {
      const attempt = () => dict.set(name, freeze({ [name]: value }));
      expect(attempt).toThrow(SharedDictError);
      expect(attempt).toThrow(message);
      expect(attempt).toThrow(/Keep it in a @Monitor/);
      expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_SHARED_DICT_VALUE' }));
    }
    expect(dict.size).toBe(0);
  });

  it('fails with SharedDictError naming maxEntries when full of entries; overwrites still work', () => {
    const dict = new SharedDict<number, number>({ maxEntries: 3 });
    dict.set(1, 1).set(2, 2).set(3, 3);
    const attempt = () => dict.set(4, 4);
    expect(attempt).toThrow(SharedDictError);
    expect(attempt).toThrow(/SharedDict.set\(4\): the SharedDict is full: it holds 3 entries, its maxEntries. Raise maxEntries/);
    dict.set(3, 33);
    expect(dict.get(3)).toBe(33);
    dict.delete(1);
    dict.set(4, 4);
    expect(dict.size).toBe(3);
  });

  it('fails with SharedDictError naming maxBytes when its bytes are used up', () => {
    const dict = new SharedDict<string, string>({ maxBytes: 1024 });
    dict.set('small', 'x');
    const attempt = () => dict.set('big', 'y'.repeat(2000));
    expect(attempt).toThrow(expect.objectContaining({ name: 'SharedDictError', code: 'ERR_SHARED_DICT_FULL' }));
    expect(attempt).toThrow(/Raise maxBytes where it is made \(new SharedDict\(\{ maxBytes \}\)\)/);
    expect(dict.get('small')).toBe('x');
    expect(dict.has('big')).toBe(false);
    expect(dict.limits).toEqual({ maxEntries: 4096, maxBytes: 1024 });
  });

  it('refuses keys that are not strings or numbers', () => {
    const dict = new SharedDict<string | number, number>();
    for (const bad of [undefined, null, {}, [1], true, 1n, Symbol('k'), NaN]) {
      expect(() => dict.set(bad as unknown as string, 1)).toThrow(SharedDictError);
      expect(() => dict.get(bad as unknown as string)).toThrow(/a SharedDict key must be a string or a number/);
      expect(() => dict.has(bad as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_SHARED_DICT_KEY' }));
      expect(() => dict.delete(bad as unknown as string)).toThrow(SharedDictError);
    }
  });

  it('refuses bad options with a DefinitionError', () => {
    expect(() => new SharedDict({ maxEntries: 0 })).toThrow(DefinitionError);
    expect(() => new SharedDict({ maxBytes: 1.5 })).toThrow(/option `maxBytes` must be a whole number/);
  });

  it('refuses a crafted marker whose memory is not laid out as a dictionary', () => {
    const revive = (memory: unknown) => () => SharedDict.revive({ kind: 'shared-dict', id: 'crafted:1', memory: memory as SharedArrayBuffer });
    expect(revive(new SharedArrayBuffer(64))).toThrow(/whose memory is not laid out as a SharedDict's/);
    expect(revive(new ArrayBuffer(1024))).toThrow(TypeError);
    const real = SharedDict.markerOf(new SharedDict({ maxEntries: 4 }))!;
    const words = new Int32Array(new SharedArrayBuffer(real.memory.byteLength));
    words.set(new Int32Array(real.memory));
    words[12] = 1 << 29; // maxBytes far beyond the memory
    expect(revive(words.buffer)).toThrow(TypeError);
  });

  it('is shareable and frozen itself', () => {
    const dict = new SharedDict<string, number>();
    expect(isShareable(dict)).toBe(true);
    expect(isShareable(freeze({ dict }))).toBe(true);
    expect(Object.isFrozen(dict)).toBe(true);
  });
});
