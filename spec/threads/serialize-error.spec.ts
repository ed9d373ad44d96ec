import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import {
  BranchError,
  CancelledError,
  DeadlockError,
  DefinitionError,
  MonitorAccessError,
  MonitorClosedError,
  ShareabilityError,
  ThreadCrashError,
  TimeoutError,
} from '../../lib';
import { deserializeError, serializeError } from '../../lib/threads/serialize-error';

/** Sends `thrown` the way a thread does: serialized, copied by a real structured clone, revived. */
function roundTrip(thrown: unknown, callerStack?: string): unknown {
  return deserializeError(structuredClone(serializeError(thrown, 'thread 1')), callerStack);
}

function roundTripError(thrown: unknown, callerStack?: string): Error {
  const revived = roundTrip(thrown, callerStack);
  if (!(revived instanceof Error)) throw new Error(`expected an Error back, got ${String(revived)}`);
  return revived;
}

class PaymentError extends Error {
  readonly amount = 120;
  readonly currency = 'EUR';
  readonly details = { card: 'visa', attempts: [1, 2] };
  readonly code = 'E_DECLINED';
}

class ValidationError extends TypeError {
  override readonly name = 'ValidationError';
}

describe('serializeError / deserializeError', () => {
  describe('classes', () => {
    it.each([Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError])(
      'revives a %p as an instance of its class',
      (Class) => {
        const revived = roundTripError(new Class('bad input'));
        expect(revived).toBeInstanceOf(Class);
        expect(revived.constructor).toBe(Class);
        expect(revived.name).toBe(Class.name);
        expect(revived.message).toBe('bad input');
      },
    );

    it.each([
      ['ShareabilityError', () => new ShareabilityError('ERR_NOT_SHAREABLE', 'Counter.add: argument 0', '', 'a mutable Array', 'pass freeze(value)'), ShareabilityError, TypeError, 'ERR_NOT_SHAREABLE'],
      ['DefinitionError', () => new DefinitionError('ERR_MONITOR_WITHOUT_METHODS', 'Empty'), DefinitionError, TypeError, 'ERR_MONITOR_WITHOUT_METHODS'],
      ['MonitorAccessError', () => new MonitorAccessError('ERR_MONITOR_ACCESS_READ', 'Counter#1', 'count'), MonitorAccessError, TypeError, 'ERR_MONITOR_ACCESS_READ'],
      ['MonitorClosedError', () => new MonitorClosedError('Counter#1', 'its thread crashed'), MonitorClosedError, Error, 'ERR_MONITOR_CLOSED'],
      ['CancelledError', () => new CancelledError('shutdown', 'the child'), CancelledError, Error, 'ERR_CANCELLED'],
      ['ThreadCrashError', () => new ThreadCrashError('child crunch', 'exit code 3'), ThreadCrashError, Error, 'ERR_THREAD_CRASH'],
    ] as const)('revives a %s as a real instance with its name, message and code', (name, make, Class, Base, code) => {
      const original = make();
      const revived = roundTripError(original);
      expect(revived).toBeInstanceOf(Class);
      expect(revived).toBeInstanceOf(Base);
      expect(revived.name).toBe(name);
      expect(revived.message).toBe(original.message);
      expect((revived as { code?: unknown }).code).toBe(code);
    });

    it('revives a TimeoutError that is still a CancelledError, with timeoutMs', () => {
      const revived = roundTripError(new TimeoutError(250, 'the branch'));
      expect(revived).toBeInstanceOf(TimeoutError);
      expect(revived).toBeInstanceOf(CancelledError);
      expect(revived.name).toBe('TimeoutError');
      expect(revived.message).toBe('the branch timed out after 250 ms');
      expect((revived as TimeoutError).code).toBe('ERR_TIMEOUT');
      expect((revived as TimeoutError).timeoutMs).toBe(250);
    });

    it('keeps a CancelledError reason that is plain data, and one that is its cause', () => {
      const plain = roundTripError(new CancelledError(Object.freeze({ why: 'user' })));
      expect((plain as CancelledError).reason).toEqual({ why: 'user' });

      const revived = roundTripError(new CancelledError(new RangeError('sibling failed')));
      expect(revived.cause).toBeInstanceOf(RangeError);
      expect((revived as CancelledError).reason).toBe(revived.cause);
    });

    it('revives a DeadlockError with its cycle as data', () => {
      const cycle = Object.freeze([
        Object.freeze({ monitor: 'Ping#1', method: 'start', thread: 'main', waitsFor: 'Pong#2' }),
        Object.freeze({ monitor: 'Pong#2', method: 'reply', thread: 'thread 2', waitsFor: 'Ping#1' }),
      ]);
      const revived = roundTripError(new DeadlockError(cycle, 'Ping#1.start -> Pong#2.reply -> Ping#1.start', 'Ping#1.stop'));
      expect(revived).toBeInstanceOf(DeadlockError);
      expect((revived as DeadlockError).code).toBe('ERR_DEADLOCK');
      expect((revived as DeadlockError).cycle).toEqual(cycle);
      expect(revived.message).toContain('Ping#1.start -> Pong#2.reply');
    });

    it('revives a BranchError, an AggregateError, with every error revived', () => {
      const revived = roundTripError(new BranchError([new RangeError('one'), new TimeoutError(5), 'three']));
      expect(revived).toBeInstanceOf(BranchError);
      expect(revived).toBeInstanceOf(AggregateError);
      expect((revived as BranchError).code).toBe('ERR_BRANCH_FAILED');
      const errors = (revived as BranchError).errors;
      expect(errors).toHaveLength(3);
      expect(errors[0]).toBeInstanceOf(RangeError);
      expect((errors[0] as Error).message).toBe('one');
      expect(errors[1]).toBeInstanceOf(TimeoutError);
      expect(errors[2]).toBe('three');
    });

    it('revives a plain AggregateError with its errors', () => {
      const revived = roundTripError(new AggregateError([new TypeError('a'), new Error('b')], 'both'));
      expect(revived).toBeInstanceOf(AggregateError);
      expect(revived.message).toBe('both');
      expect((revived as AggregateError).errors.map((e: Error) => [e.constructor, e.message])).toEqual([
        [TypeError, 'a'],
        [Error, 'b'],
      ]);
    });
  });

  describe('user errors', () => {
    it('revives an unknown class as an Error named after it, with its properties', () => {
      const revived = roundTripError(new PaymentError('card declined'));
      expect(revived).toBeInstanceOf(Error);
      expect(revived.name).toBe('PaymentError');
      expect(revived.message).toBe('card declined');
      expect(revived.stack?.split('\n')[0]).toBe('PaymentError: card declined');
      expect(revived).toMatchObject({ amount: 120, currency: 'EUR', code: 'E_DECLINED', details: { card: 'visa', attempts: [1, 2] } });
    });

    it('revives a subclass of a known class as that class, keeping the name it set', () => {
      const revived = roundTripError(new ValidationError('bad email'));
      expect(revived).toBeInstanceOf(TypeError);
      expect(revived.name).toBe('ValidationError');
    });

    it('keeps plain-data properties and drops the ones that cannot cross', () => {
      const error = Object.assign(new Error('with extras'), {
        retryAfter: 30,
        tags: ['a', 'b'],
        big: 10n,
        nothing: null,
        callback: () => 1,
        when: new Date(0),
      });
      const revived = roundTripError(error) as unknown as Record<string, unknown>;
      expect(revived.retryAfter).toBe(30);
      expect(revived.tags).toEqual(['a', 'b']);
      expect(revived.big).toBe(10n);
      expect(revived.nothing).toBeNull();
      expect('callback' in revived).toBe(false);
      expect('when' in revived).toBe(false);
    });
  });

  describe('cause', () => {
    it('revives a chain of causes: an Error, then a string', () => {
      const root = new TypeError('socket closed', { cause: 'ECONNRESET' });
      const revived = roundTripError(new Error('fetch failed', { cause: root }));
      expect(revived.cause).toBeInstanceOf(TypeError);
      expect((revived.cause as Error).message).toBe('socket closed');
      expect((revived.cause as Error).cause).toBe('ECONNRESET');
    });

    it('keeps a cause that is explicitly undefined, and no cause when there was none', () => {
      expect(Object.hasOwn(roundTripError(new Error('x', { cause: undefined })), 'cause')).toBe(true);
      expect(Object.hasOwn(roundTripError(new Error('x')), 'cause')).toBe(false);
    });
  });

  describe('thrown values that are not errors', () => {
    it.each([['a string', 'boom'], ['a number', 42], ['undefined', undefined], ['null', null], ['a bigint', 7n]])(
      'gives back %s as the same value',
      (_, value) => {
        expect(roundTrip(value)).toBe(value);
      },
    );

    it('gives back a frozen object equal and still deeply frozen', () => {
      const thrown = Object.freeze({ status: 402, body: Object.freeze({ reason: 'insufficient funds' }) });
      const revived = roundTrip(thrown) as typeof thrown;
      expect(revived).not.toBe(thrown);
      expect(revived).toEqual(thrown);
      expect(Object.isFrozen(revived)).toBe(true);
      expect(Object.isFrozen(revived.body)).toBe(true);
    });

    it('gives back a mutable object equal and mutable', () => {
      const revived = roundTrip({ status: 500 });
      expect(revived).toEqual({ status: 500 });
      expect(Object.isFrozen(revived)).toBe(false);
    });

    it('turns a thrown function into an Error that says it cannot cross', () => {
      const revived = roundTripError(function handler() {});
      expect(revived.message).toBe('function handler from thread 1 cannot cross threads; throw an Error or plain data instead');
    });
  });

  describe('stack', () => {
    function chargeCard(): never {
      throw new Error('declined');
    }
    function waitForCharge(): string {
      return new Error('CALLER MESSAGE\nsecond line').stack ?? '';
    }

    it('joins the remote frames, a boundary line and the caller frames, in that order', () => {
      let thrown: unknown;
      try {
        chargeCard();
      } catch (error) {
        thrown = error;
      }
      const stack = roundTripError(thrown, waitForCharge()).stack ?? '';
      const lines = stack.split('\n');
      const remote = lines.findIndex((line) => line.includes('chargeCard'));
      const boundary = lines.indexOf('    at <thread boundary: thrown on thread 1>');
      const caller = lines.findIndex((line) => line.includes('waitForCharge'));
      expect(lines[0]).toBe('Error: declined');
      expect(remote).toBeGreaterThan(0);
      expect(boundary).toBeGreaterThan(remote);
      expect(caller).toBeGreaterThan(boundary);
      expect(stack).not.toContain('CALLER MESSAGE');
      expect(stack).not.toContain('second line');
    });

    it('marks both boundaries when an error crosses twice', () => {
      const once = deserializeError(structuredClone(serializeError(new RangeError('deep'), 'thread 2')));
      const twice = roundTripError(once);
      expect(twice).toBeInstanceOf(RangeError);
      expect(twice.stack).toMatch(/thrown on thread 2>[^]*thrown on thread 1>/);
    });
  });

  describe('a real MessageChannel', () => {
    it('carries a serialized error with its cause and properties', async () => {
      const { port1, port2 } = new MessageChannel();
      try {
        const received = once(port2, 'message');
        port1.postMessage(serializeError(new TimeoutError(100, 'the call'), 'thread 1'));
        const [data] = (await received) as [Parameters<typeof deserializeError>[0]];
        const revived = deserializeError(data);
        expect(revived).toBeInstanceOf(TimeoutError);
        expect((revived as TimeoutError).timeoutMs).toBe(100);
        expect((revived as Error).stack).toContain('thrown on thread 1');
      } finally {
        port1.close();
        port2.close();
      }
    });
  });

  describe('hostile input', () => {
    it('survives a message getter that throws', () => {
      const error = new RangeError('hidden');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('no reading');
        },
      });
      const revived = roundTripError(error);
      expect(revived).toBeInstanceOf(RangeError);
      expect(revived.message).toBe('[message could not be read]');
    });

    it('survives a proxy whose every trap throws', () => {
      const trap = (): never => {
        throw new Error('trap');
      };
      const hostile = new Proxy(new Error('x'), { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap });
      expect(() => roundTrip(hostile)).not.toThrow();
      expect(roundTrip(hostile)).toBeInstanceOf(Error);
    });

    it('cuts a cyclic cause chain', () => {
      const a = new Error('a');
      const b = new Error('b', { cause: a });
      a.cause = b;
      const revived = roundTripError(a);
      expect((revived.cause as Error).message).toBe('b');
      expect((revived.cause as Error).cause).toBeUndefined();
    });

    it('cuts an AggregateError that contains itself', () => {
      const errors: unknown[] = [new Error('inner')];
      const aggregate = new AggregateError(errors, 'outer');
      (aggregate.errors as unknown[]).push(aggregate);
      const revived = roundTripError(aggregate) as AggregateError;
      expect(revived.errors.map((e: Error) => e.message)).toEqual(['inner']);
    });

    it('bounds a very long cause chain', () => {
      let error = new Error('0');
      for (let i = 1; i < 10_000; i += 1) error = new Error(String(i), { cause: error });
      let revived: unknown = roundTripError(error);
      let depth = 0;
      while (revived instanceof Error) {
        revived = revived.cause;
        depth += 1;
      }
      expect(depth).toBeGreaterThan(1);
      expect(depth).toBeLessThan(100);
    });

    it('carries a cause that is a function as an Error saying so', () => {
      const revived = roundTripError(new Error('outer', { cause: function onRetry() {} }));
      expect(revived.cause).toBeInstanceOf(Error);
      expect((revived.cause as Error).message).toContain('function onRetry');
    });

    it('carries a thrown object with a getter as an Error, never calling the getter', () => {
      const thrown = {
        get status(): number {
          throw new Error('getter ran');
        },
      };
      const revived = roundTripError(thrown);
      expect(revived.message).toContain('cannot cross threads');
    });
  });
});
