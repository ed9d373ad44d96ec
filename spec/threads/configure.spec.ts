import { configure, DefinitionError, type PoolOptions } from '../../lib';
import { closestName } from '../../lib/errors/closest-name';
import { configuration } from '../../lib/threads/pool-options';

/** configure() refuses what it would otherwise ignore or pass on broken: unknown keys and values of the wrong kind. */

const KNOWN = 'one of the known options (threads, resourceLimits, idleTimeoutMs, deadlockDetection, execArgv)';

let saved: PoolOptions = {};
beforeEach(() => (saved = configuration().options));
afterEach(() => configuration().restore(saved));

/** The DefinitionError `configure(options)` throws, given options of any shape. */
function refusal(options: unknown): DefinitionError {
  let thrown: unknown;
  try {
    configure(options as PoolOptions);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DefinitionError);
  expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTION' });
  return thrown as DefinitionError;
}

describe('configure', () => {
  describe('refuses an unknown option, naming it and the known ones', () => {
    it.each([
      ['a letter short', 'thread', 'threads'],
      ['another case', 'deadlockdetection', 'deadlockDetection'],
      ['a letter off', 'execArgs', 'execArgv'],
      ['cut short', 'resourceLimit', 'resourceLimits'],
      ["another pool's name for it", 'maxThreads', 'threads'],
      ["another pool's name for it, without the unit", 'idleTimeout', 'idleTimeoutMs'],
    ])('%s: %s suggests %s', (_how, key, suggestion) => {
      expect(refusal({ [key]: 2 }).message).toBe(`configure: option \`${key}\` must be ${KNOWN}, got an unknown option; did you mean \`${suggestion}\`?`);
    });

    it('without a suggestion when no known option is close', () => {
      expect(refusal({ colour: 'red' }).message).toBe(`configure: option \`colour\` must be ${KNOWN}, got an unknown option`);
    });

    it('even when its value is undefined, and without applying the options beside it', () => {
      const before = configuration().options;
      expect(refusal({ threads: 3, thread: undefined }).message).toMatch(/^configure: option `thread` must be/);
      expect(configuration().options).toBe(before);
    });
  });

  describe('execArgv', () => {
    it('takes an array of strings, kept as a frozen copy for the threads started from then on', () => {
      const execArgv = ['--import', 'tsx'];
      configure({ execArgv });
      execArgv.push('--inspect');
      expect(configuration().options.execArgv).toEqual(['--import', 'tsx']);
      expect(Object.isFrozen(configuration().options.execArgv)).toBe(true);
    });

    it('refuses anything else, saying what it got', () => {
      expect(refusal({ execArgv: '--import tsx' }).message).toBe('configure: option `execArgv` must be an array of strings, got "--import tsx"');
      expect(refusal({ execArgv: ['--max-old-space-size', 64] }).message).toBe('configure: option `execArgv` must be an array of strings, got an array with 64 at index 1');
    });
  });

  it('refuses options that are not an object, and a resourceLimits that is not one', () => {
    expect(refusal(null).message).toBe('configure: option `options` must be an object, got null');
    expect(refusal(['threads']).message).toBe('configure: option `options` must be an object, got an array');
    expect(refusal({ resourceLimits: 64 }).message).toBe('configure: option `resourceLimits` must be an object of memory limits (see worker_threads.ResourceLimits), got 64');
  });

  it('suggests nothing for a name that is far from every known one', () => {
    expect(closestName('x', ['threads', 'execArgv'])).toBeUndefined();
    expect(closestName('poolSize', ['threads', 'execArgv'])).toBeUndefined();
    expect(closestName('thraeds', ['threads', 'execArgv'])).toBe('threads');
  });
});
