import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { DefinitionError } from '../../lib';
import { callerFile, loadModule } from '../../lib/threads/module-loader';
import { findTask, locateTask } from '../../lib/threads/task';
import { square } from '../fixtures/tasks';

/**
 * Where a task or class is defined, as read off the call stack, and how a thread finds it again:
 * the user's file whatever sits between it and safethread (compiler helpers, virtual modules, ES
 * module URLs), and the task by its position when a compiler renamed the function.
 */

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'safethread-location-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a CommonJS file and loads it with Node's own require (outside jest's registry). */
function writeModule(relative: string, source: string): string {
  const file = join(dir, relative);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, source);
  return file;
}

describe('callerFile', () => {
  // The user's file calls a helper, which calls safethread (here callerFile itself, as a decorator would).
  const userSource = 'module.exports = (helper, safethread) => helper(safethread);';
  const helperSource = 'module.exports = (fn) => fn();';

  it.each(['@swc/helpers', '@oxc-project/runtime', 'tslib', 'reflect-metadata', '@babel/runtime'])(
    'skips the frames of %s, a compiler helper, and names the user file',
    (helperPackage) => {
      const user = writeModule(`${helperPackage}-user.js`, userSource);
      const helper = writeModule(`node_modules/${helperPackage}/helpers/decorate.js`, helperSource);
      const callThrough = module.require(user) as (h: unknown, fn: () => unknown) => unknown;
      expect(callThrough(module.require(helper), callerFile)).toBe(user);
    },
  );

  it('skips a virtual module of a bundler (an id starting with \\0) and names the user file', () => {
    const user = writeModule('virtual-user.js', userSource);
    const helper = runInThisContext(`(${helperSource.slice('module.exports = '.length, -1)})`, { filename: '\0rolldown/runtime.js' }) as (fn: () => unknown) => unknown;
    const callThrough = module.require(user) as (h: unknown, fn: () => unknown) => unknown;
    expect(callThrough(helper, callerFile)).toBe(user);
  });

  it('names an ES module by its path, not its file:// URL, so that every thread agrees on the key', () => {
    const file = join(dir, 'module.mjs');
    const callThrough = runInThisContext('(fn) => fn()', { filename: pathToFileURL(file).href }) as (fn: () => unknown) => unknown;
    expect(callThrough(callerFile)).toBe(file);
  });
});

describe('loading a module on this thread', () => {
  it('says which file could not load, why, and what to do, keeping the error as its cause', () => {
    const broken = writeModule('broken.js', 'this is not JavaScript');
    let caught: unknown;
    try {
      loadModule(broken);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DefinitionError);
    expect((caught as DefinitionError).code).toBe('ERR_MODULE_NOT_LOADABLE');
    expect((caught as Error).message).toContain(`could not load ${broken}: SyntaxError`);
    expect((caught as Error).message).toContain('loader');
    expect((caught as Error).cause).toMatchObject({ name: 'SyntaxError' });
  });
});

describe('finding a task', () => {
  it('finds it by its position in its file when a compiler renamed the function on the other thread', async () => {
    const location = locateTask(square);
    expect(location).toBeDefined();
    // esbuild, for one, renames `function square` to `square2` when a binding of that name is in scope.
    const renamed = { ...location!, key: 'square2', name: 'square2' };
    await expect(findTask(renamed)).resolves.toBe(square);
  });

  it('finds it by name when the other thread ran the module twice and counted past this thread', async () => {
    const location = locateTask(square)!;
    await expect(findTask({ ...location, ordinal: location.ordinal + 1000 })).resolves.toBe(square);
  });
});
