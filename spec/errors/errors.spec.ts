import {
  BranchError,
  CancelledError,
  ChannelClosedError,
  DeadlockError,
  DefinitionError,
  MonitorAccessError,
  MonitorClosedError,
  ShareabilityError,
  ThreadCrashError,
  TimeoutError,
  type DeadlockStep,
  type ErrorCode,
} from '../../lib';
import { errorMessages, formatMessage } from '../../lib/errors/codes';
import { describeCycle } from '../../lib/errors/deadlock-error';

interface Case {
  readonly error: Error & { readonly code: string };
  readonly name: string;
  readonly code: ErrorCode;
  readonly base: abstract new (...args: never[]) => Error;
  readonly message: string;
}

const cycle: readonly DeadlockStep[] = [
  { monitor: 'Ping#1', method: 'start', thread: 'main', waitsFor: 'Pong#2' },
  { monitor: 'Pong#2', method: 'reply', thread: 'thread 1', waitsFor: 'Ping#1' },
];

/** One instance of every public error class, with what it must be. */
const cases: readonly Case[] = [
  {
    error: new ShareabilityError('ERR_NOT_SHAREABLE', 'Counter.add: argument 0', '.items[3]', 'a mutable Array', 'pass freeze(value) or a copy'),
    name: 'ShareabilityError',
    code: 'ERR_NOT_SHAREABLE',
    base: TypeError,
    message: 'Counter.add: argument 0 .items[3] is a mutable Array; pass freeze(value) or a copy',
  },
  {
    error: new ShareabilityError('ERR_TRANSFER_USED', 'Vault.store: argument 0'),
    name: 'ShareabilityError',
    code: 'ERR_TRANSFER_USED',
    base: TypeError,
    message: 'Vault.store: argument 0 is a transfer() whose ArrayBuffer was already moved; call transfer(buffer) once per send, with a buffer you still own',
  },
  {
    error: new DefinitionError('ERR_MONITOR_WITHOUT_METHODS', 'Useless'),
    name: 'DefinitionError',
    code: 'ERR_MONITOR_WITHOUT_METHODS',
    base: TypeError,
    message: '@Monitor class Useless has no @monitorMethod methods, so nothing could ever call it; mark the methods callers use with @monitorMethod',
  },
  {
    error: new MonitorAccessError('ERR_MONITOR_ACCESS_READ', 'Counter#1', 'count'),
    name: 'MonitorAccessError',
    code: 'ERR_MONITOR_ACCESS_READ',
    base: TypeError,
    message: 'cannot read Counter#1.count: only @monitorMethod methods are reachable through a monitor reference; read state through an async @monitorMethod such as `getCount()`',
  },
  {
    error: new MonitorClosedError('Counter#1', 'its thread crashed'),
    name: 'MonitorClosedError',
    code: 'ERR_MONITOR_CLOSED',
    base: Error,
    message: 'Counter#1 is closed (its thread crashed); its calls can no longer run. Create or spawn a new monitor',
  },
  {
    error: new CancelledError('shutting down', 'sleep(1000)'),
    name: 'CancelledError',
    code: 'ERR_CANCELLED',
    base: Error,
    message: 'sleep(1000) was cancelled',
  },
  {
    error: new TimeoutError(250, 'the branch'),
    name: 'TimeoutError',
    code: 'ERR_TIMEOUT',
    base: CancelledError,
    message: 'the branch timed out after 250 ms',
  },
  {
    error: new DeadlockError(cycle, describeCycle(cycle), 'Ping#1.stop (called by Pong#2.reply)'),
    name: 'DeadlockError',
    code: 'ERR_DEADLOCK',
    base: Error,
    message:
      'deadlock: Ping#1.start (main) waits for Pong#2, held by Pong#2.reply (thread 1), which waits for Ping#1. ' +
      'The call Ping#1.stop (called by Pong#2.reply) was rejected to break the cycle. ' +
      "Take monitors in one fixed order, or declare the monitor @Monitor({ reentrant: 'chain' }) if a call chain must come back into it",
  },
  {
    error: new ChannelClosedError('ERR_CHANNEL_DRAINED', 'Channel#4'),
    name: 'ChannelClosedError',
    code: 'ERR_CHANNEL_DRAINED',
    base: Error,
    message: 'Channel#4 is closed and every value in it was taken: get() has nothing more to give. Iterate with for await, which ends here quietly',
  },
  {
    error: new BranchError([new RangeError('a'), new TypeError('b')]),
    name: 'BranchError',
    code: 'ERR_BRANCH_FAILED',
    base: AggregateError,
    message: '2 children of the branch failed; see .errors',
  },
  {
    error: new ThreadCrashError('child crunch', 'exit code 3'),
    name: 'ThreadCrashError',
    code: 'ERR_THREAD_CRASH',
    base: Error,
    message: 'child crunch crashed its thread: exit code 3',
  },
];

describe('errors', () => {
  describe.each(cases)('$name ($code)', ({ error, name, code, base, message }) => {
    it('has its class name as name, in String() and at the top of its stack', () => {
      expect(error.name).toBe(name);
      expect(String(error)).toBe(`${name}: ${message}`);
      expect(error.stack?.split('\n')[0]).toBe(`${name}: ${message}`);
    });

    it('has a stable code from the table of codes', () => {
      expect(error.code).toBe(code);
      expect(Object.keys(errorMessages)).toContain(error.code);
    });

    it('is an instance of its built-in base and of Error', () => {
      expect(error).toBeInstanceOf(base);
      expect(error).toBeInstanceOf(Error);
    });

    it('has the message the table makes', () => {
      expect(error.message).toBe(message);
    });
  });

  describe('CancelledError', () => {
    it('keeps the reason as reason and as cause', () => {
      const why = new Error('user pressed stop');
      const error = new CancelledError(why);
      expect(error.reason).toBe(why);
      expect(error.cause).toBe(why);
      expect(error.message).toBe('the operation was cancelled');
    });

    it('keeps a reason that is not an Error', () => {
      const error = new CancelledError('deadline');
      expect(error.reason).toBe('deadline');
      expect(error.cause).toBe('deadline');
    });

    it('has no cause when given no reason', () => {
      const error = new CancelledError();
      expect(error.reason).toBeUndefined();
      expect('cause' in error).toBe(false);
    });
  });

  describe('TimeoutError', () => {
    it('is a CancelledError that keeps its deadline', () => {
      const error = new TimeoutError(1000);
      expect(error).toBeInstanceOf(CancelledError);
      expect(error.timeoutMs).toBe(1000);
      expect(error.code).toBe('ERR_TIMEOUT');
      expect(error.message).toBe('the operation timed out after 1000 ms');
    });
  });

  describe('DeadlockError', () => {
    it('keeps the cycle as data', () => {
      const error = new DeadlockError(cycle, describeCycle(cycle), 'Ping#1.stop');
      expect(error.cycle).toEqual(cycle);
      expect(error.cycle.map((step) => step.monitor)).toEqual(['Ping#1', 'Pong#2']);
    });

    it('describes a monitor waiting for itself', () => {
      expect(describeCycle([{ monitor: 'Ping#1', method: 'start', thread: 'main', waitsFor: 'Ping#1' }])).toBe(
        'Ping#1.start (main) waits for Ping#1, which it holds itself',
      );
    });
  });

  describe('BranchError', () => {
    it('keeps every failure in errors, in order', () => {
      const first = new RangeError('a');
      const second = new TypeError('b');
      const error = new BranchError([first, second]);
      expect(error.errors).toHaveLength(2);
      expect(error.errors[0]).toBe(first);
      expect(error.errors[1]).toBe(second);
    });
  });

  describe('MonitorClosedError and ThreadCrashError', () => {
    it('keep the cause they are given', () => {
      const cause = new Error('worker exited');
      expect(new MonitorClosedError('Counter#1', 'its thread crashed', { cause }).cause).toBe(cause);
      expect(new ThreadCrashError('child crunch', 'exit code 1', { cause }).cause).toBe(cause);
    });
  });

  describe('the table of codes', () => {
    it('keeps every code users may already check', () => {
      expect(Object.keys(errorMessages)).toEqual(
        expect.arrayContaining([
          'ERR_NOT_SHAREABLE',
          'ERR_UNSHAREABLE_DECLARED_TYPE',
          'ERR_TRANSFER_USED',
          'ERR_DECORATOR_MISUSE',
          'ERR_INVALID_OPTION',
          'ERR_MONITOR_METHOD_OUTSIDE_MONITOR',
          'ERR_MONITOR_WITHOUT_METHODS',
          'ERR_MONITOR_METHOD_NOT_ASYNC',
          'ERR_SUBCLASS_NOT_MONITOR',
          'ERR_MONITOR_ACCESS_READ',
          'ERR_MONITOR_ACCESS_WRITE',
          'ERR_MONITOR_CLOSED',
          'ERR_CANCELLED',
          'ERR_TIMEOUT',
          'ERR_DEADLOCK',
          'ERR_BRANCH_FAILED',
          'ERR_THREAD_CRASH',
        ]),
      );
    });

    it.each(Object.keys(errorMessages) as ErrorCode[])('formats %s as a non-empty message that uses every detail', (code) => {
      const make = errorMessages[code] as (...details: unknown[]) => string;
      const details = Array.from({ length: make.length }, (_, index) => `detail${index}`);
      const message = (formatMessage as (code: ErrorCode, ...details: unknown[]) => string)(code, ...details);
      expect(typeof message).toBe('string');
      expect(message.trim()).not.toBe('');
      for (const detail of details) expect(message).toContain(detail);
      expect(message).not.toContain('undefined');
    });
  });
});
