import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { branch, close, shutdown, spawn } from '../../lib';
import { loadingModule, whileLoadingModule } from '../../lib/threads/loading-module';
import { Tally } from '../fixtures/monitors';
import { decoratorMode } from '../helpers/decorator-mode';
import { captureWarnings } from '../helpers/warnings';

/**
 * A module that a worker loads to find a task or class, and that starts a branch or spawn at its
 * top level, repeats that on every thread that loads it: safethread warns, once per module,
 * naming the guard that makes the module start work only when it runs as the program.
 */

jest.setTimeout(60_000);
afterAll(() => shutdown());

const root = resolve(__dirname, '../..');
const fixtures = join(root, 'spec/fixtures/top-level-start');
const CODE = 'SAFETHREAD_TOP_LEVEL_START';
const requireGuard = 'wrap it in `if (require.main === module) { ... }`';
const importGuard = 'wrap it in `if (import.meta.filename === process.argv[1]) { ... }`';

function warning(file: string, started: string, thread: string, guard: string): string {
  return `${file} starts ${started} at its top level, and ${thread} loaded it to find a task or class it defines: every thread that loads the module starts it again. Start work only when the module runs as the program: ${guard}; or move the tasks and classes into a module of their own`;
}

afterEach(() => jest.restoreAllMocks());

describe('a branch or spawn started while this thread loads a module of the user', () => {
  it('warns, naming the module and the require.main guard, when the module starts a branch at its top level', async () => {
    const warned = captureWarnings();
    const file = join(fixtures, 'tasks.ts');
    const loaded = whileLoadingModule(file, () => require(file) as typeof import('../fixtures/top-level-start/tasks'));
    await expect(loaded.started).resolves.toEqual(['a top-level side effect']);
    expect(warned).toEqual([{ message: warning(file, 'a branch', 'the main thread', requireGuard), code: CODE }]);
    expect(loadingModule()).toBeUndefined();
  });

  it('warns once per module, however many starts it makes', async () => {
    const warned = captureWarnings();
    const startTwo = () => Promise.all([branch(() => undefined), branch(() => undefined)]);
    await whileLoadingModule('/app/jobs.cjs', startTwo);
    await whileLoadingModule('/app/jobs.cjs', startTwo);
    await whileLoadingModule('/app/other-jobs.cjs', startTwo);
    expect(warned.map((entry) => entry.message)).toEqual([
      warning('/app/jobs.cjs', 'a branch', 'the main thread', requireGuard),
      warning('/app/other-jobs.cjs', 'a branch', 'the main thread', requireGuard),
    ]);
  });

  it('warns when the module spawns an actor at its top level', async () => {
    const warned = captureWarnings();
    const tally = await whileLoadingModule('/app/actors.mjs', () => spawn(Tally, 1));
    await close(tally);
    expect(warned).toEqual([{ message: warning('/app/actors.mjs', 'an actor (spawn)', 'the main thread', importGuard), code: CODE }]);
  });

  it('says nothing about a branch started while no module loads', async () => {
    const warned = captureWarnings();
    await branch((children) => {
      children.addLocal(() => 1);
    });
    expect(warned).toEqual([]);
  });

  describe('names the guard of the module kind', () => {
    let folder = '';
    beforeAll(() => {
      folder = mkdtempSync(join(tmpdir(), 'safethread-top-level-'));
      writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it.each([
      ['an .mjs or .mts file: import.meta', '/app/main.mts', importGuard],
      ['a .cjs or .cts file: require.main', '/app/main.cts', requireGuard],
      ['a .js or .ts file under a package.json with "type": "module": import.meta', 'esm/main.ts', importGuard],
      ['a .js or .ts file under a CommonJS package.json: require.main', join(root, 'spec/main.js'), requireGuard],
    ])('%s', async (_kind, file, guard) => {
      const path = file.startsWith('esm/') ? join(folder, file.slice('esm/'.length)) : file;
      const warned = captureWarnings();
      await whileLoadingModule(path, () => branch(() => undefined));
      expect(warned).toEqual([{ message: warning(path, 'a branch', 'the main thread', guard), code: CODE }]);
    });
  });
});

// A worker's warnings go to its own process object, which prints them on the worker's stderr, which
// Node pipes to the process's stderr: the program's stderr is where a user sees them. This runs in
// the `standard` project only, since the subprocess does not see the jest project's set-up.
(decoratorMode === 'standard' ? describe : describe.skip)('a task module loaded by a worker, in a subprocess', () => {
  it("prints the warning once on the program's stderr, and the program still works", () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(fixtures, 'program.ts')], { cwd: root, encoding: 'utf8', timeout: 50_000 });
    expect({ status: run.status, signal: run.signal, stdout: run.stdout }).toEqual({ status: 0, signal: null, stdout: '[42]\n' });
    const lines = run.stderr.split('\n').filter((line) => line.includes(CODE));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\(node:\d+\) \[SAFETHREAD_TOP_LEVEL_START\] Warning: /);
    expect(lines[0]).toMatch(new RegExp(`${escape(warning(join(fixtures, 'tasks.ts'), 'a branch', 'THREAD', requireGuard)).replace('THREAD', 'thread \\d+')}$`));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
