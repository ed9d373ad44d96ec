import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decoratorMode } from '../helpers/decorator-mode';
import { copyRepository, describeRun, limiter, makeApp, readPackageJson, root, runCommand, type Links, type Run } from './helpers/scratch-apps';

/**
 * The installed package works in a user's own project under every runner (issue 10, point 7).
 *
 * The package is packed (from a copy of the working tree, so the working tree's `dist/` is left
 * alone) and installed into scratch applications outside the repository, built from the templates
 * in spec/e2e/apps: safethread is the unpacked tarball, every tool (jest, vitest, tsx, ts-node,
 * @swc-node, typescript) a link into this repository's node_modules, so nothing resolves the
 * repository's lib/ and nothing is fetched. Each application runs the same user code
 * (apps/common/src/work.ts, which imports only 'safethread'): a branch with two children of a
 * task, a child that creates a @Monitor and returns it (then called from the main thread), an
 * actor from spawn() called and closed, a @shareable instance sent to a child and back, and a
 * cancellation token that must arrive as the class the worker's own `import 'safethread'` gives
 * (one instance of safethread per thread, also in the one-file build that workers start on). Each
 * runner must print the expected line (or report its one test passed), print nothing unexpected
 * on stderr and exit by itself.
 *
 * What each combination did before the fix (lib as of commit 8e11171):
 *
 * | runner                          | format   | decorators | before the fix                                                                        |
 * | ------------------------------- | -------- | ---------- | ------------------------------------------------------------------------------------- |
 * | jest + ts-jest                  | CommonJS | legacy     | FAILS: children reject `SyntaxError: Invalid or unexpected token` (worker, work.ts)    |
 * | node -r ts-node/register        | CommonJS | legacy     | passes (workers inherit -r ts-node/register)                                          |
 * | vitest 4 + Vite 8 (Oxc)         | ESM      | legacy     | FAILS: `SyntaxError: Invalid or unexpected token` (worker, work.ts)                    |
 * | vitest 3 + Vite 7 (esbuild)     | ESM      | TC39       | FAILS: `SyntaxError: Invalid or unexpected token` (worker, work.ts)                    |
 * | the ts-node command             | CommonJS | TC39       | FAILS: `SyntaxError: Invalid or unexpected token` (worker, work.ts)                    |
 * | node -r @swc-node/register      | CommonJS | legacy     | passes (workers inherit -r)                                                           |
 * | the tsx command                 | CommonJS | TC39       | passes                                                                                |
 * | node --import tsx               | CommonJS | TC39       | passes                                                                                |
 * | node --import tsx --test        | CommonJS | TC39       | passes                                                                                |
 * | compiled JavaScript (tsc)       | CommonJS | TC39       | passes                                                                                |
 * | the tsx command                 | ESM      | TC39       | FAILS: `task square was not registered when file:///…/work.ts was loaded` (URL path)  |
 * | node --import tsx               | ESM      | TC39       | FAILS: the same                                                                       |
 * | node --import tsx --test        | ESM      | TC39       | FAILS: the same                                                                       |
 * | compiled JavaScript (tsc)       | ESM      | TC39       | FAILS: `Cannot find module 'file:///…/dist/work.js'` (require of a file URL)          |
 * | no loader on the worker         | CommonJS | TC39       | FAILS: `SyntaxError: Invalid or unexpected token`, no file named, no loader suggested |
 * | esbuild bundle, safethread external | CommonJS | TC39    | passes                                                                                |
 * | esbuild bundle with safethread in   | CommonJS | TC39    | FAILS to say so: `task square2 cannot be sent ... could not be found on the call stack` |
 *
 * Decorators: Vite 8 transforms TypeScript with Oxc, which does not lower TC39 decorators
 * (oxc-project/oxc#9170; Node 20 cannot parse them), so its application sets
 * `experimentalDecorators` (Oxc reads it from tsconfig.json); @swc-node/register enables the
 * decorator parser only with `experimentalDecorators`, so it runs the legacy application. That
 * application sets ts-node's `transpileOnly`: workers inherit `-r ts-node/register`, and each
 * would type check the project again (about 20 s more on two cores).
 */

/** Hang guard for one subprocess: it is killed, and its test fails with what it printed. */
const subprocessTimeoutMs = 60_000;
/** Subprocesses at a time (this machine has two cores). */
const concurrency = 2;
/** Building and packing the library, once. */
const packTimeoutMs = 180_000;
// A test waits for its subprocess, which may be queued behind the others.
jest.setTimeout(10 * 60_000);

/** What `main` prints: the scenario's result (`expected` in apps/common/src/work.ts). */
const expectedLine = JSON.stringify({
  squares: [4, 9],
  monitor: { value: 15, onAnotherThread: true },
  actor: { value: 101, onAnotherThread: true },
  point: { isPoint: true, x: 11, y: 2 },
  oneSafethread: true,
});

/**
 * Lines a runner may print on stderr without failing its test: none so far. (Jest reports on
 * stderr; its report is checked instead.)
 */
const harmlessStderr: readonly RegExp[] = [];

type AppName = 'cjs' | 'cjs-legacy' | 'esm' | 'vitest-vite7' | 'vitest-vite8' | 'no-loader';

const everything: Links = { all: true };
const apps: Record<AppName, { readonly folders: readonly string[]; readonly links: Links }> = {
  /** CommonJS, TC39 decorators. */
  cjs: { folders: ['common', 'cjs'], links: everything },
  /** CommonJS, `experimentalDecorators`; also jest's configuration. */
  'cjs-legacy': { folders: ['common', 'cjs-legacy'], links: everything },
  /** `"type": "module"`, module nodenext, TC39 decorators. */
  esm: { folders: ['common', 'esm'], links: everything },
  /** vitest 3 with its own Vite 7: `vitest` is the repository's `vitest3`. TC39 decorators. */
  'vitest-vite7': { folders: ['common', 'vitest'], links: { all: true, replace: { vitest: 'vitest3' } } },
  /** vitest 4 with Vite 8, whose Oxc needs `experimentalDecorators`. */
  'vitest-vite8': { folders: ['common', 'vitest', 'vitest-legacy-decorators'], links: everything },
  /** No TypeScript loader installed, nor typescript: only safethread's dependencies. */
  'no-loader': { folders: ['common', 'no-loader'], links: { all: false, packages: ['acorn'] } },
};

/** How a run shows it succeeded. */
type Check = 'prints the line' | 'node --test' | 'jest' | 'vitest';

interface Case {
  readonly runner: string;
  readonly format: 'CommonJS' | 'ESM';
  readonly decorators: 'TC39' | 'legacy';
  readonly app: AppName;
  /** Arguments to node, run in the application's folder. */
  readonly args: readonly string[];
  readonly check: Check;
  /** Runs `dist/`, compiled by tsc first. */
  readonly compiled?: true;
  /** Runs a single-file bundle of src/main.ts that esbuild makes first, leaving out these packages. */
  readonly bundled?: readonly string[];
}

/**
 * Bundles src/main.ts into one file with esbuild's API (its bin/esbuild may be the native binary
 * or a JavaScript launcher, depending on whether its install script ran). TC39 decorators need a
 * target that lowers them.
 */
const bundle = (outfile: string, external: readonly string[]): string[] => [
  '-e',
  `require('esbuild').buildSync(${JSON.stringify({ entryPoints: ['src/main.ts'], bundle: true, platform: 'node', target: 'node20', logLevel: 'error', outfile, external })})`,
];
const vitest = ['node_modules/vitest/vitest.mjs', 'run'];
// Slowest first, so that two at a time finish soonest.
const cases: readonly Case[] = [
  { runner: 'jest + ts-jest', format: 'CommonJS', decorators: 'legacy', app: 'cjs-legacy', args: ['node_modules/jest/bin/jest.js', '--ci', '--cacheDirectory', '.jest-cache'], check: 'jest' },
  { runner: 'node -r ts-node/register', format: 'CommonJS', decorators: 'legacy', app: 'cjs-legacy', args: ['-r', 'ts-node/register', 'src/main.ts'], check: 'prints the line' },
  { runner: 'vitest 4 + Vite 8 (Oxc)', format: 'ESM', decorators: 'legacy', app: 'vitest-vite8', args: vitest, check: 'vitest' },
  { runner: 'vitest 3 + Vite 7 (esbuild)', format: 'ESM', decorators: 'TC39', app: 'vitest-vite7', args: vitest, check: 'vitest' },
  { runner: 'the ts-node command', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['node_modules/ts-node/dist/bin.js', 'src/main.ts'], check: 'prints the line' },
  { runner: 'compiled JavaScript (tsc)', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['dist/main.js'], check: 'prints the line', compiled: true },
  { runner: 'node -r @swc-node/register', format: 'CommonJS', decorators: 'legacy', app: 'cjs-legacy', args: ['-r', '@swc-node/register', 'src/main.ts'], check: 'prints the line' },
  { runner: 'the tsx command', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['node_modules/tsx/dist/cli.mjs', 'src/main.ts'], check: 'prints the line' },
  { runner: 'node --import tsx', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['--import', 'tsx', 'src/main.ts'], check: 'prints the line' },
  { runner: 'node --import tsx --test', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['--import', 'tsx', '--test', 'src/node.test.ts'], check: 'node --test' },
  { runner: 'compiled JavaScript (tsc)', format: 'ESM', decorators: 'TC39', app: 'esm', args: ['dist/main.js'], check: 'prints the line', compiled: true },
  { runner: 'the tsx command', format: 'ESM', decorators: 'TC39', app: 'esm', args: ['node_modules/tsx/dist/cli.mjs', 'src/main.ts'], check: 'prints the line' },
  { runner: 'node --import tsx', format: 'ESM', decorators: 'TC39', app: 'esm', args: ['--import', 'tsx', 'src/main.ts'], check: 'prints the line' },
  { runner: 'node --import tsx --test', format: 'ESM', decorators: 'TC39', app: 'esm', args: ['--import', 'tsx', '--test', 'src/node.test.ts'], check: 'node --test' },
  { runner: 'an esbuild bundle, safethread external', format: 'CommonJS', decorators: 'TC39', app: 'cjs', args: ['bundle/main.js'], check: 'prints the line', bundled: ['safethread'] },
];

/** stderr without the lines allowed to be there. */
function unexpectedStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !harmlessStderr.some((pattern) => pattern.test(line)))
    .join('\n');
}

/** What is wrong with a run, if anything. */
function problemsOf(run: Run, check: Check): string[] {
  const problems: string[] = [];
  if (run.timedOut) problems.push(`it did not exit within ${subprocessTimeoutMs / 1000} s`);
  else if (run.status !== 0) problems.push(`exit code ${run.status}${run.signal === null ? '' : `, signal ${run.signal}`}`);
  const stderr = unexpectedStderr(run.stderr);
  switch (check) {
    case 'prints the line':
      if (run.stdout !== `${expectedLine}\n`) problems.push(`stdout is not ${expectedLine}`);
      if (stderr !== '') problems.push('it printed on stderr');
      break;
    case 'node --test':
      if (!/^# pass 1$/m.test(run.stdout) || !/^# fail 0$/m.test(run.stdout)) problems.push('node --test did not report 1 test passed');
      if (stderr !== '') problems.push('it printed on stderr');
      break;
    case 'jest':
      if (!/^Tests:\s+1 passed, 1 total$/m.test(run.stderr)) problems.push('jest did not report 1 test passed');
      if (/did not exit|open handle|failed to exit gracefully/i.test(run.stderr)) problems.push('jest reported something left running');
      break;
    case 'vitest':
      if (!/^\s*Tests\s+1 passed \(1\)$/m.test(run.stdout)) problems.push('vitest did not report 1 test passed');
      if (stderr !== '') problems.push('it printed on stderr');
      break;
  }
  return problems;
}

function expectSuccess(run: Run, check: Check): void {
  const problems = problemsOf(run, check);
  if (problems.length > 0) throw new Error(`${problems.join('; ')}\n\n${describeRun(run)}`);
}

// Everything here runs in subprocesses, which do not see this jest project's decorator set-up:
// it runs in the `standard` project only.
const describeSubprocesses = decoratorMode === 'standard' ? describe : describe.skip;

describeSubprocesses('the installed package, in a scratch application, under each runner', () => {
  const node = process.execPath;
  const limit = limiter(concurrency);
  const runs = new Map<Case, Promise<Run>>();
  let negative: Promise<Run> | undefined;
  let bundledInside: Promise<Run> | undefined;
  let temp = '';
  const folderOf = (app: AppName): string => join(temp, app);

  beforeAll(async () => {
    temp = realpathSync(mkdtempSync(join(tmpdir(), 'safethread-e2e-')));
    const clone = join(temp, 'clone');
    await copyRepository(clone, subprocessTimeoutMs);
    // What `npm pack` runs before packing (clean, then build), run once; then pack without it.
    const scripts = readPackageJson(clone).scripts ?? {};
    const build = ['prepack', 'prepare', 'build'].find((script) => scripts[script] !== undefined) as string;
    const built = await runCommand('npm', ['run', build], clone, packTimeoutMs);
    if (built.status !== 0) throw new Error(`the build failed:\n${describeRun(built)}`);
    const packed = await runCommand('npm', ['pack', '--ignore-scripts', '--update-notifier=false', '--pack-destination', temp], clone, packTimeoutMs);
    const tarball = readdirSync(temp).find((file) => file.endsWith('.tgz'));
    if (packed.status !== 0 || tarball === undefined) throw new Error(`npm pack failed:\n${describeRun(packed)}`);
    const extracted = await runCommand('tar', ['xzf', tarball], temp, subprocessTimeoutMs);
    if (extracted.status !== 0) throw new Error(`could not extract the tarball:\n${describeRun(extracted)}`);

    for (const [name, app] of Object.entries(apps)) makeApp(folderOf(name as AppName), app.folders, join(temp, 'package'), app.links);

    // Every subprocess starts now, two at a time; each test waits for its own.
    const compilations = new Map<AppName, Promise<Run>>();
    const compile = (app: AppName): Promise<Run> => {
      if (!compilations.has(app)) compilations.set(app, limit(() => runCommand(node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], folderOf(app), subprocessTimeoutMs)));
      return compilations.get(app) as Promise<Run>;
    };
    const bundleThen = (app: AppName, outfile: string, extra: readonly string[], start: () => Promise<Run>): Promise<Run> =>
      limit(() => runCommand(node, bundle(outfile, extra), folderOf(app), subprocessTimeoutMs)).then((esbuild) => (esbuild.status === 0 ? start() : esbuild));
    for (const each of cases) {
      const start = (): Promise<Run> => limit(() => runCommand(node, each.args, folderOf(each.app), subprocessTimeoutMs));
      // A failed compilation or bundling is reported as the run's failure.
      if (each.compiled === true) runs.set(each, compile(each.app).then((tsc) => (tsc.status === 0 ? start() : tsc)));
      else if (each.bundled !== undefined) runs.set(each, bundleThen(each.app, each.args[0] as string, each.bundled, start));
      else runs.set(each, start());
    }
    // safethread copied into the bundle: its worker threads cannot start from there.
    bundledInside = bundleThen('cjs', 'bundle-inside/main.js', [], () => limit(() => runCommand(node, ['bundle-inside/main.js'], folderOf('cjs'), subprocessTimeoutMs)));
    // main.js compiles its TypeScript with the repository's typescript, out of the workers' reach.
    const typescript = join(root, 'node_modules', 'typescript');
    negative = limit(() => runCommand(node, ['main.js', typescript], folderOf('no-loader'), subprocessTimeoutMs));
  }, packTimeoutMs + 2 * subprocessTimeoutMs);

  afterAll(async () => {
    // Every subprocess has ended (each has its hang guard) before its folder goes.
    const all = await Promise.all([...runs.values(), ...[negative, bundledInside].filter((run) => run !== undefined)]);
    if (temp === '') return;
    if (process.env.SAFETHREAD_E2E_KEEP !== undefined) {
      // For investigating: the applications stay, with every run's output.
      writeFileSync(join(temp, 'runs.txt'), all.map(describeRun).join('\n\n'));
      return;
    }
    if (existsSync(temp)) rmSync(temp, { recursive: true, force: true });
  });

  describe.each(cases)('$runner ($format, $decorators decorators)', (each) => {
    it('runs a task, a monitor returned from a child, an actor, a @shareable round trip and one safethread per worker, and exits by itself', async () => {
      expectSuccess(await (runs.get(each) as Promise<Run>), each.check);
    });
  });

  describe('a bundle that contains safethread', () => {
    it('fails at start, before any thread, with an error that says to keep safethread external', async () => {
      const run = await (bundledInside as Promise<Run>);
      const problems: string[] = [];
      if (run.timedOut || run.status !== 1) problems.push(`expected exit code 1, got ${run.status}`);
      if (run.stdout !== '') problems.push('it printed on stdout: the program ran');
      if (!run.stderr.includes('ERR_MODULE_NOT_LOADABLE') && !run.stderr.includes('DefinitionError')) problems.push('stderr has no DefinitionError');
      if (!run.stderr.includes('copies safethread into a single file') || !run.stderr.includes('--external:safethread')) problems.push('the error does not name the fix');
      if (problems.length > 0) throw new Error(`${problems.join('; ')}\n\n${describeRun(run)}`);
    });
  });

  describe('a worker without a TypeScript loader', () => {
    it('fails the child with an error naming the file, and the loader to add', async () => {
      const run = await (negative as Promise<Run>);
      const problems = problemsOf(run, 'prints the line').filter((problem) => !problem.startsWith('stdout'));
      let printed: { name?: string; message?: string; results?: unknown } = {};
      try {
        printed = JSON.parse(run.stdout) as typeof printed;
      } catch {
        problems.push('stdout is not one JSON line');
      }
      const message = printed.message ?? '';
      const file = join(folderOf('no-loader'), 'src', 'work.ts');
      if (!message.includes(file)) problems.push(`the error does not name ${file}`);
      if (!/loader/i.test(message) || !/\btsx\b/.test(message)) problems.push('the error does not say which loader to add');
      if (problems.length > 0) throw new Error(`${problems.join('; ')}\n\n${describeRun(run)}`);
    });
  });
});
