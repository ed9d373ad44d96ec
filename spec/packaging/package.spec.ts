import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { decoratorMode } from '../helpers/decorator-mode';

/**
 * `npm pack` on a fresh clone yields a working package: the files it needs and no others, a build
 * made from the sources at hand (never a stale `dist/`), source maps that resolve to shipped
 * sources, a core that runs without rxjs (an optional peer dependency), and declarations that a
 * consumer type checks with `skipLibCheck: false`.
 *
 * The repository's files (tracked, and new ones git does not ignore) are copied to a temporary
 * "clone" with a stale `dist/` planted in it, and packed there once, which builds through the
 * prepack script; the tarball is then installed by hand into applications outside the
 * repository, whose node_modules link only what each one needs from the repository's.
 */

const root = resolve(__dirname, '../..');
/** Hang guard for one subprocess; packing builds the library (the prepack script). */
const subprocessTimeoutMs = 120_000;
jest.setTimeout(2 * subprocessTimeoutMs);

/** What a stale build left behind, from a source file since removed: it must not ship. */
const staleFile = 'dist/lib/removed-long-ago.js';

interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without npm's own variables (set when jest runs under `npm test`), which would reach the inner npm. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')));
}

function run(command: string, args: readonly string[], cwd: string): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: subprocessTimeoutMs, env: cleanEnvironment(), maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined && result.signal === null) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Runs and throws with everything it printed unless it succeeded. */
function runOrThrow(command: string, args: readonly string[], cwd: string): Run {
  const result = run(command, args, cwd);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}, signal ${result.signal}):\n${result.stdout}${result.stderr}`);
  }
  return result;
}

/** Copies what a clone of the repository would hold (with the working tree's changes) to `clone`. */
function copyRepository(clone: string): void {
  const listed = runOrThrow('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).stdout;
  for (const file of listed.split('\0')) {
    // Skips files deleted in the working tree, and node_modules should it be a link git does not ignore.
    if (file === '' || /^node_modules(\/|$)/.test(file) || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(root, file), join(clone, file));
  }
  // The build's tools, as `npm ci` would have installed them.
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
}

interface PackageJson {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>;
  readonly exports?: Record<string, unknown>;
}

function readPackageJson(directory: string): PackageJson {
  return JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * Links `name` from the repository's node_modules into `modules`, with what it depends on, as npm
 * would install them (the repository's node_modules is flat for these packages).
 */
function linkPackage(name: string, modules: string): void {
  const target = join(modules, name);
  if (existsSync(target)) return;
  const source = join(root, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'dir');
  for (const dependency of Object.keys(readPackageJson(source).dependencies ?? {})) linkPackage(dependency, modules);
}

/** An application in `directory` with safethread installed from the unpacked tarball, and `links` from the repository. */
function makeApplication(directory: string, unpacked: string, links: readonly string[]): void {
  const modules = join(directory, 'node_modules');
  mkdirSync(modules, { recursive: true });
  cpSync(unpacked, join(modules, 'safethread'), { recursive: true });
  for (const name of links) linkPackage(name, modules);
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name: 'app', private: true }));
}

// Everything here runs in subprocesses, which do not see this jest project's decorator set-up:
// it runs in the `standard` project only.
const describeSubprocesses = decoratorMode === 'standard' ? describe : describe.skip;

describeSubprocesses('the npm package', () => {
  let temp = '';
  /** The package as npm install would unpack it. */
  let unpacked = '';
  /** Paths in the tarball, relative to the package root. */
  let packed: readonly string[] = [];

  beforeAll(() => {
    temp = realpathSync(mkdtempSync(join(tmpdir(), 'safethread-packaging-')));
    const clone = join(temp, 'clone');
    copyRepository(clone);
    mkdirSync(dirname(join(clone, staleFile)), { recursive: true });
    writeFileSync(join(clone, staleFile), 'module.exports = "stale";\n');

    const pack = runOrThrow('npm', ['pack', '--json', '--pack-destination', temp], clone);
    // The scripts' own output comes first on stdout; npm's JSON starts at a line of its own.
    const [entry] = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[$/m))) as [{ filename: string; files: readonly { path: string }[] }];
    packed = entry.files.map((file) => file.path);

    runOrThrow('tar', ['-xzf', join(temp, entry.filename), '-C', temp], temp);
    unpacked = join(temp, 'package');
  });

  afterAll(() => {
    if (temp !== '') rmSync(temp, { recursive: true, force: true });
  });

  describe('its files', () => {
    it('hold the license, the readme, the build and the sources its source maps name', () => {
      expect(packed).toEqual(
        expect.arrayContaining(['package.json', 'LICENSE', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/index.js.map', 'lib/index.ts']),
      );
      expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the safethread developers\n/);
    });

    it('hold nothing from spec/, bench/, samples/ or the repository set-up, and no stale build', () => {
      const outside = packed.filter((file) => !/^(dist\/lib|lib)\//.test(file) && !['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md'].includes(file));
      expect(outside).toEqual([]);
      expect(packed.filter((file) => /^(spec|bench|samples)\//.test(file))).toEqual([]);
      expect(packed).not.toContain(staleFile);
      // The build is one file (scripts/build.js), and every source has its declarations.
      const sources = packed.filter((file) => file.startsWith('lib/') && file.endsWith('.ts'));
      const built = packed.filter((file) => file.startsWith('dist/') && file.endsWith('.js'));
      expect(built).toEqual(['dist/lib/index.js']);
      const declared = packed.filter((file) => file.startsWith('dist/') && file.endsWith('.d.ts'));
      expect(declared.sort()).toEqual(sources.map((file) => `dist/${file.replace(/\.ts$/, '.d.ts')}`).sort());
    });

    it('have a source map whose sources are shipped TypeScript files', () => {
      const maps = packed.filter((file) => file.endsWith('.js.map'));
      expect(maps).toEqual(['dist/lib/index.js.map']);
      const { sources } = JSON.parse(readFileSync(join(unpacked, 'dist/lib/index.js.map'), 'utf8')) as { sources: readonly string[] };
      expect(sources).toEqual(expect.arrayContaining(['../../lib/index.ts', '../../lib/threads/worker-entry.ts']));
      const unresolved: string[] = [];
      for (const map of maps) {
        const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(unpacked, map), 'utf8')) as { sources: readonly string[]; sourceRoot?: string };
        for (const source of sources) {
          const file = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
          if (!packed.includes(file) || !file.endsWith('.ts')) unresolved.push(`${map}: ${source}`);
        }
      }
      expect(unresolved).toEqual([]);
    });

    it('declare rxjs as an optional peer dependency, not a dependency', () => {
      const manifest = readPackageJson(unpacked);
      expect(manifest.dependencies?.rxjs).toBeUndefined();
      expect(manifest.peerDependencies?.rxjs).toBeDefined();
      expect(manifest.peerDependenciesMeta?.rxjs?.optional).toBe(true);
      expect(Object.keys(manifest.exports?.['.'] as object)[0]).toBe('types');
    });
  });

  describe('installed in an application without rxjs', () => {
    let app = '';

    beforeAll(() => {
      app = join(temp, 'app');
      // Only its runtime dependencies, as npm would install them: no rxjs, no TypeScript.
      makeApplication(app, unpacked, Object.keys(readPackageJson(unpacked).dependencies ?? {}));
    });

    it('runs a branch on a worker without loading rxjs, and says clearly what needs rxjs', () => {
      const program = `
        const safethread = require('safethread');
        const loaded = (pattern) => Object.keys(require.cache).filter((file) => pattern.test(file));
        const failure = (use) => {
          try {
            use();
            return 'no error';
          } catch (error) {
            return { name: error.name, code: error.code, message: error.message, definitionError: error instanceof safethread.DefinitionError, cause: error.cause?.code, stack: error.stack };
          }
        };
        (async () => {
          const results = await safethread.branch((children) => {
            children.add((a, b) => a * b, 6, 7);
          });
          const before = { rxjs: loaded(/[\\\\/]rxjs[\\\\/]/), bridge: loaded(/observable-bridge/) };
          // The files of safethread each thread loaded: the one file, on a worker too.
          const [workerFiles] = await safethread.branch((children) => {
            children.add(() => Object.freeze(Object.keys(require.cache).filter((file) => /[\\\\/]node_modules[\\\\/]safethread[\\\\/]/.test(file))));
          });
          const files = { main: loaded(/[\\\\/]node_modules[\\\\/]safethread[\\\\/]/), worker: workerFiles };
          let installed = true;
          try { require.resolve('rxjs'); } catch { installed = false; }
          const token = failure(() => safethread.CancellationToken.none.asObservable());
          const events = failure(() => safethread.monitorEvents());
          const stream = await safethread.branch((children) => void children.results()).then(() => 'no error', (error) => error.message);
          console.log(JSON.stringify({ entry: require.resolve('safethread'), results, before, files, installed, token, events, stream }));
        })().catch((error) => {
          console.error(error);
          process.exitCode = 1;
        });
      `;
      const result = run(process.execPath, ['--enable-source-maps', '-e', program], app);
      expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
      const report = JSON.parse(result.stdout) as {
        entry: string;
        results: unknown;
        before: unknown;
        files: unknown;
        installed: boolean;
        token: { name: string; code: string; message: string; definitionError: boolean; stack: string };
        events: { message: string };
        stream: string;
      };
      expect(report.entry).toBe(join(app, 'node_modules/safethread/dist/lib/index.js'));
      expect(report.results).toEqual([42]);
      // The core never loaded rxjs, nor even the module that would load it; nor could it have.
      expect(report.before).toEqual({ rxjs: [], bridge: [] });
      const built = join(app, 'node_modules/safethread/dist/lib/index.js');
      expect(report.files).toEqual({ main: [built], worker: [built] });
      expect(report.installed).toBe(false);
      expect(report.token).toMatchObject({
        name: 'DefinitionError',
        code: 'ERR_RXJS_MISSING',
        message: 'CancellationToken.asObservable() needs rxjs, which is not installed; npm install rxjs',
        definitionError: true,
        cause: 'MODULE_NOT_FOUND',
      });
      expect(report.events.message).toBe('monitorEvents() needs rxjs, which is not installed; npm install rxjs');
      expect(report.stream).toBe('children.results() or a stream monitor method needs rxjs, which is not installed; npm install rxjs');
      // Stack traces point at the shipped TypeScript sources (through the source maps).
      expect(report.token.stack).toContain(join(app, 'node_modules/safethread/lib/rxjs/observable-bridge.ts:'));
    });
  });

  /**
   * Workers start from a V8 code cache of the one file (lib/threads/code-cache.ts): the first worker
   * of an installation saves it under the application's node_modules/.cache/safethread, and later
   * workers compile from it. It must change nothing a program sees: the same results, the same one
   * instance of safethread on a worker, `import()` of an ES module task that only `import()` loads
   * (top-level await), and nothing on stderr.
   */
  describe('installed, with workers started from a code cache', () => {
    let app = '';
    let cacheFolder = '';
    let library = '';

    beforeAll(() => {
      app = join(temp, 'cached-app');
      makeApplication(app, unpacked, Object.keys(readPackageJson(unpacked).dependencies ?? {}));
      cacheFolder = join(app, 'node_modules/.cache/safethread');
      library = join(app, 'node_modules/safethread/dist/lib/index.js');
      writeFileSync(
        join(app, 'tasks.mjs'),
        `import { task } from 'safethread';
        // Top-level await: a worker can only load this module with import().
        await Promise.resolve();
        export const double = task(function double(n) { return n * 2; });
        `,
      );
      writeFileSync(
        join(app, 'main.mjs'),
        `import { branch, shutdown, CancellationSource } from 'safethread';
        import { double } from './tasks.mjs';
        const token = new CancellationSource().token;
        const results = await branch((children) => {
          children.add(double, 21);
          children.add((t) => {
            const safethread = require('safethread');
            return t instanceof safethread.CancellationToken && require.cache[require.resolve('safethread')].exports === safethread;
          }, token);
        });
        console.log(JSON.stringify(results));
        await shutdown();
        `,
      );
    });

    const runMain = (environment: NodeJS.ProcessEnv = {}): Run => {
      const result = spawnSync(process.execPath, ['main.mjs'], {
        cwd: app,
        encoding: 'utf8',
        timeout: subprocessTimeoutMs,
        env: { ...cleanEnvironment(), ...environment },
      });
      return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
    };
    const expectResults = (result: Run): void => {
      expect({ status: result.status, signal: result.signal, stderr: result.stderr, stdout: result.stdout.trim() }).toEqual({
        status: 0,
        signal: null,
        stderr: '',
        stdout: '[42,true]',
      });
    };
    const cacheFiles = (): string[] => (existsSync(cacheFolder) ? readdirSync(cacheFolder) : []);

    it('saves the cache with the first worker, for this Node and this very file', () => {
      rmSync(cacheFolder, { recursive: true, force: true });
      expectResults(runMain());
      const files = cacheFiles();
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(new RegExp(`^index\\.js-${process.version.replace(/\./g, '\\.')}-${process.arch}-\\d+-\\d+-\\d+-\\d+\\.v8-cache$`));
    });

    it('starts later workers from it, with the same results, and leaves it as it is (V8 took it)', () => {
      if (cacheFiles().length === 0) expectResults(runMain());
      const [file] = cacheFiles() as [string];
      const saved = readFileSync(join(cacheFolder, file));
      const savedAt = statSync(join(cacheFolder, file)).mtimeMs;
      expectResults(runMain());
      // A cache V8 rejected would have been saved again.
      expect(cacheFiles()).toEqual([file]);
      expect(statSync(join(cacheFolder, file)).mtimeMs).toBe(savedAt);
      expect(readFileSync(join(cacheFolder, file)).equals(saved)).toBe(true);
    });

    it('replaces a cache V8 cannot use', () => {
      if (cacheFiles().length === 0) expectResults(runMain());
      const [file] = cacheFiles() as [string];
      writeFileSync(join(cacheFolder, file), 'not a code cache');
      expectResults(runMain());
      expect(cacheFiles()).toEqual([file]);
      expect(readFileSync(join(cacheFolder, file), 'utf8')).not.toBe('not a code cache');
    });

    it('never uses the cache of the file as it was before a change, and removes it', () => {
      if (cacheFiles().length === 0) expectResults(runMain());
      const [before] = cacheFiles() as [string];
      appendFileSync(library, '\n// changed\n');
      expectResults(runMain());
      const after = cacheFiles();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before);
    });

    it('changes nothing where it cannot be saved: workers compile the file as before', () => {
      rmSync(join(app, 'node_modules/.cache'), { recursive: true, force: true });
      // A file where the cache folder would go: no folder can be made there (as in a read-only install).
      writeFileSync(join(app, 'node_modules/.cache'), 'not a folder');
      try {
        expectResults(runMain());
        expectResults(runMain());
      } finally {
        rmSync(join(app, 'node_modules/.cache'), { force: true });
      }
    });

    it('is neither read nor saved with SAFETHREAD_CODE_CACHE=off', () => {
      rmSync(cacheFolder, { recursive: true, force: true });
      expectResults(runMain({ SAFETHREAD_CODE_CACHE: 'off' }));
      expect(existsSync(cacheFolder)).toBe(false);
    });
  });

  /**
   * A consumer type checks against the shipped declarations with `skipLibCheck: false`, which also
   * checks every declaration file safethread ships. Some of them import rxjs types (Observable, for
   * `asObservable()`, `monitorEvents()` and `children.results()`), so rxjs is linked here: without
   * it, tsc reports "Cannot find module 'rxjs'" in those declaration files (with `skipLibCheck: true`
   * the Observable types degrade to `any` instead), as the README's Install section says.
   */
  describe('type checked by a consumer with skipLibCheck false', () => {
    let app = '';

    beforeAll(() => {
      app = join(temp, 'typed-app');
      makeApplication(app, unpacked, [...Object.keys(readPackageJson(unpacked).dependencies ?? {}), 'rxjs', 'typescript', '@types/node']);
      writeFileSync(join(app, 'consumer.ts'), consumer);
    });

    it.each([
      { resolution: 'node16 (package exports)', module: 'node16', moduleResolution: 'node16' },
      { resolution: 'node10 (the types field)', module: 'commonjs', moduleResolution: 'node10' },
    ])('compiles the public API, from dist/lib/*.d.ts only, with $resolution resolution', ({ module, moduleResolution }) => {
      const config = {
        compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2022'], types: ['node'], module, moduleResolution },
        files: ['consumer.ts'],
      };
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config, null, 2));
      const result = run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--listFiles'], app);
      const listed = result.stdout.split('\n').filter((line) => line.startsWith('/'));
      const errors = result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('/'));
      expect({ status: result.status, errors, stderr: result.stderr }).toEqual({ status: 0, errors: [], stderr: '' });
      const safethreadFiles = listed.filter((file) => file.includes('/node_modules/safethread/'));
      expect(safethreadFiles).toContain(join(app, 'node_modules/safethread/dist/lib/index.d.ts'));
      // The shipped TypeScript sources are never compiled as part of the consumer's program.
      expect(safethreadFiles.filter((file) => !/\/node_modules\/safethread\/dist\/lib\/.*\.d\.ts$/.test(file))).toEqual([]);
    });
  });
});

/** A consumer of the public API; the `@ts-expect-error` lines prove internal members are not declared. */
const consumer = `
import {
  Monitor, monitorMethod, shareable, freeze, isShareable, assertShareable, transfer, branch, task, configure, shutdown,
  spawn, close, CancellationSource, CancellationToken, currentToken, sleep, Channel, dumpMonitors, monitorEvents,
  DefinitionError, ShareabilityError, CancelledError, TimeoutError, DeadlockError, BranchError, ThreadCrashError,
  MonitorClosedError, MonitorAccessError, ChannelClosedError, MonitorDump,
  type Immutable, type Shareable, type ErrorCode, type MonitorEvent, type ChildResult,
} from 'safethread';
import { type Observable, takeUntil, timer } from 'rxjs';

@shareable
class Point {
  constructor(readonly x: number, readonly y: number) {}
}

@Monitor({ reentrant: 'chain' })
class Counter {
  #count = 0;

  @monitorMethod
  async add(by: number, at: Point): Promise<number> {
    this.#count += by + at.x;
    return this.#count;
  }

  @monitorMethod
  ticks(): Observable<number> {
    return timer(0, 10);
  }
}

const double = task((n: number) => n * 2);

export async function main(): Promise<void> {
  configure({ threads: 2, idleTimeoutMs: 1000 });
  const counter = new Counter();
  const total: number = await counter.add(1, new Point(1, 2));
  const ticks: Observable<number> = counter.ticks();
  const actor = await spawn(Counter);
  await actor.add(2, new Point(0, 0));
  await close(actor);

  const source = new CancellationSource();
  const token: CancellationToken = source.token;
  const stop: Observable<unknown> = token.asObservable();
  ticks.pipe(takeUntil(stop)).subscribe((tick) => console.log(tick));
  const linked = CancellationToken.fromSignal(AbortSignal.timeout(1000));
  const results: readonly number[] = await branch<number>(
    (children) => {
      children.add(double, 21);
      children.addLocal(async (n: number) => n + 1, 1);
      children.results().subscribe((result: ChildResult) => console.log(result.index, result.value));
    },
    { token: linked, timeoutMs: 1000, graceMs: 100 },
  );
  await sleep(1, { token: currentToken() });

  const channel = new Channel<string>(4);
  await channel.put('x', { token });
  const first: string = await channel.get();
  await channel.close();
  for await (const rest of channel) console.log(rest);

  const frozen: Immutable<{ list: number[] }> = freeze({ list: [1, 2] });
  const value: unknown = frozen;
  if (isShareable(value)) {
    const shared: Shareable = value;
    console.log(shared);
  }
  assertShareable(frozen, 'frozen');
  const moved: ArrayBuffer = transfer(new ArrayBuffer(8));

  const dump: MonitorDump = await dumpMonitors();
  console.log(String(dump), dump.monitors.length, dump.silentThreads);
  monitorEvents().subscribe((event: MonitorEvent) => console.log(event.kind, event.monitor));

  const errors: readonly Error[] = [
    new CancelledError('why'), new TimeoutError(5), new ThreadCrashError('child', 'exit code 1'),
    new MonitorClosedError('Counter#1', 'closed'), new BranchError([new Error('a')]),
  ];
  for (const error of errors) {
    if (error instanceof DefinitionError || error instanceof ShareabilityError || error instanceof MonitorAccessError) {
      const code: ErrorCode = error.code;
      console.log(code);
    }
    if (error instanceof DeadlockError) console.log(error.cycle);
    if (error instanceof ChannelClosedError) console.log(error.code);
  }
  console.log(total, results, first, moved.byteLength);

  // @ts-expect-error internal: how a token travels between threads
  console.log(token.shared);
  // @ts-expect-error internal: how a channel arrives on another thread
  console.log(Channel.revive);
  // @ts-expect-error tokens come from a CancellationSource: the constructor is not public
  console.log(new CancellationToken());
  // @ts-expect-error dumps come from dumpMonitors(): the constructor is not public
  console.log(new MonitorDump([], [], []));
  source.cancel('done');
  await shutdown();
}
`;
