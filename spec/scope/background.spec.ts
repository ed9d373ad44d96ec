import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { background, branch, CancelledError, configure, currentToken, DefinitionError, type Child, ShareabilityError, shutdown, sleep, TimeoutError } from '../../lib';
import { decoratorMode } from '../helpers/decorator-mode';
import { latch, settle } from '../helpers/latch';
import { backgroundFromWorker, countUntilCancelled, failLater, slowSquare } from '../fixtures/background/tasks';

/**
 * `background(fn)`: children of the process's root branch, which outlive the function that
 * started them but not the program. They are independent of each other and of their caller's
 * token, their failures are reported when nobody takes them, and exit signals and shutdown()
 * cancel them first.
 */

jest.setTimeout(60_000);

beforeAll(() => configure({ threads: 2 }));
afterEach(() => background.cancelAll());
afterAll(() => shutdown());

describe('a background child', () => {
  it('runs on after the function that started it returned, and delivers its result', async () => {
    const go = latch();
    const start = () => ({
      pooled: background(slowSquare, 6, 50),
      local: background.local(async function afterReturn(word: string) {
        await go.promise;
        return `${word} after return`;
      }, 'still'),
    });
    const { pooled, local } = start();
    go.open();
    await expect(pooled.result).resolves.toBe(36);
    await expect(local.result).resolves.toBe('still after return');
  });

  it('is not cancelled with the branch that started it: no caller token reaches it', async () => {
    const go = latch();
    let child: Child<string> | undefined;
    const started = branch(
      async () => {
        child = background.local(async function outlivesItsStarter() {
          await go.promise;
          return currentToken().cancelled ? 'cancelled' : 'ran to the end';
        });
        await sleep(60_000); // the branch body waits until the branch times out
      },
      { timeoutMs: 20 },
    );
    await expect(started).rejects.toBeInstanceOf(TimeoutError);
    go.open();
    await expect(child?.result).resolves.toBe('ran to the end');
  });

  it('is cancelled alone by its cancel(): its token fires, its result rejects with a CancelledError, its siblings run on', async () => {
    const go = latch();
    const counting = background(countUntilCancelled);
    const sibling = background.local(async function sibling() {
      await go.promise;
      return currentToken().cancelled ? 'cancelled' : 'untouched';
    });
    let seen: unknown;
    const local = background.local(async function waitsForCancel() {
      await new Promise<void>((wake) => currentToken().onCancel(() => wake()));
      seen = currentToken().reason;
    });
    counting.cancel('enough counting');
    local.cancel('enough waiting');
    const cancelled = await counting.result.catch((error: unknown) => error);
    expect(cancelled).toBeInstanceOf(CancelledError);
    expect(cancelled).toMatchObject({ message: 'background child countUntilCancelled was cancelled', reason: 'enough counting' });
    await expect(local.result).rejects.toBeInstanceOf(CancelledError);
    expect(seen).toMatchObject({ reason: 'enough waiting' });
    go.open();
    await expect(sibling.result).resolves.toBe('untouched');
  });

  it('fails alone: its siblings are not cancelled, and its own error reaches whoever takes its result', async () => {
    const failing = background(failLater, 'disk full', 10);
    const sibling = background(slowSquare, 5, 300);
    await expect(failing.result).rejects.toThrow(new RangeError('disk full'));
    await expect(sibling.result).resolves.toBe(25);
  });

  it('is refused at once when it cannot start, like children.add: the error is thrown to the caller', () => {
    const outside = 41;
    expect(() => background(() => outside + 1)).toThrow(DefinitionError);
    expect(() => background(slowSquare, { n: 1 } as unknown as number, 1)).toThrow(ShareabilityError);
  });

  it('is refused on a worker, where exit signals are not heard, with an error that says where to start it', async () => {
    const started = branch((children) => {
      children.add(backgroundFromWorker);
    });
    const error = await started.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(DefinitionError);
    expect(error).toMatchObject({ code: 'ERR_BACKGROUND_OFF_MAIN_THREAD' });
    expect((error as Error).message).toMatch(/^background\(\) was called on thread \d+, but background children belong to the main thread/);
  });

  it('listens for exit signals only while it runs, so the program keeps their default behaviour otherwise', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const go = latch();
    const child = background.local(() => go.promise);
    background.local(() => go.promise);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0] + 1, before[1] + 1]);
    go.open();
    await child.result;
    await settle();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});

describe('stopping background children', () => {
  it('background.cancelAll() cancels every one with the reason and resolves once all have settled', async () => {
    const stopped: string[] = [];
    const stops = (name: string) => async () => {
      await new Promise<void>((wake) => currentToken().onCancel(() => wake()));
      await new Promise((wake) => setTimeout(wake, 20)); // winds down after the cancel
      stopped.push(`${name}: ${String((currentToken().reason as CancelledError).reason)}`);
    };
    const children = [background.local(stops('first')), background.local(stops('second')), background(countUntilCancelled)];
    await background.cancelAll('closing');
    expect(stopped.sort()).toEqual(['first: closing', 'second: closing']);
    for (const child of children) await expect(child.result).rejects.toBeInstanceOf(CancelledError);
  });

  it('shutdown() cancels them and waits for them before ending the pool', async () => {
    let stoppedCleanly = false;
    const local = background.local(async function cleansUp() {
      await new Promise<void>((wake) => currentToken().onCancel(() => wake()));
      await new Promise((wake) => setTimeout(wake, 20));
      stoppedCleanly = true;
    });
    const pooled = background(countUntilCancelled);
    local.result.catch(() => undefined);
    pooled.result.catch(() => undefined);
    await shutdown();
    expect(stoppedCleanly).toBe(true);
    await expect(pooled.result).rejects.toMatchObject({ name: 'CancelledError', reason: 'shutdown() was called' });
    // The next background child starts a new pool.
    await expect(background(slowSquare, 4, 1).result).resolves.toBe(16);
  });
});

/** Runs a program of spec/fixtures/background in a subprocess; `onOutput` sees its stdout so far and may signal it. */
function runProgram(file: string, args: readonly string[], onOutput?: (stdout: string, program: ReturnType<typeof spawn>) => void) {
  const root = resolve(__dirname, '../..');
  const program = spawn(process.execPath, ['--import', 'tsx', join(root, 'spec/fixtures/background', file), ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  program.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onOutput?.(stdout, program);
  });
  program.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // A hang guard, not a timing assertion: a program that never ends is killed, and the test fails on its exit.
  const guard = setTimeout(() => program.kill('SIGKILL'), 50_000);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
    program.on('close', (code, signal) => {
      clearTimeout(guard);
      done({ code, signal, stdout, stderr });
    }),
  );
}

/** Sends `signal` once both background children of stopped-by-signal.ts say they run. */
function signalWhenRunning(signal: NodeJS.Signals) {
  let sent = false;
  return (stdout: string, program: ReturnType<typeof spawn>) => {
    if (sent || !stdout.includes('pool child running') || !stdout.includes('local child running')) return;
    sent = true;
    program.kill(signal);
  };
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '').sort();

(decoratorMode === 'standard' ? describe : describe.skip)('a program with background children, in a subprocess', () => {
  it('exits by itself once they are done, after they delivered their results to a function that had returned', async () => {
    const run = await runProgram('outlives-caller.ts', []);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.split('\n')[0]).toBe('start returned');
    expect(lines(run.stdout)).toEqual(['local child: tock', 'pool child: 49', 'start returned']);
  });

  it.each([['SIGTERM'], ['SIGINT']] as const)('on %s, cancels them (they see their token), then ends by that signal', async (signal) => {
    const run = await runProgram('stopped-by-signal.ts', ['plain'], signalWhenRunning(signal));
    expect(run).toMatchObject({ code: null, signal, stderr: '' });
    expect(lines(run.stdout)).toEqual([
      'local child running',
      'local child saw its token: background child watcher was cancelled',
      'pool child result: CancelledError',
      'pool child running',
      'pool child saw CancelledError (token cancelled: true)',
    ]);
  });

  it('on SIGTERM with a listener of the program, cancels them and lets the program decide (here: exit by itself)', async () => {
    const run = await runProgram('stopped-by-signal.ts', ['with-listener'], signalWhenRunning('SIGTERM'));
    expect(run).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(lines(run.stdout)).toEqual([
      'local child running',
      'local child saw its token: background child watcher was cancelled',
      'pool child result: CancelledError',
      'pool child running',
      'pool child saw CancelledError (token cancelled: true)',
      'program: its own SIGTERM listener ran',
    ]);
  });

  it('reports a failure nobody handled as an unhandled BackgroundError naming the child and where it was started', async () => {
    const run = await runProgram('failures.ts', ['unhandled']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('BackgroundError: background child failLater failed, and nothing handled its result: disk full.');
    expect(run.stderr).toMatch(/\n {4}at start \(.*failures\.ts:\d+:\d+\)/);
    expect(run.stderr).toContain('[cause]: RangeError: disk full');
  });

  it('started at the top level of the module that defines its task: the worker loading the module warns, and the child runs once', async () => {
    const run = await runProgram('top-level.ts', []);
    expect(run).toMatchObject({ code: 0, stdout: 'triple: 15\n' });
    expect(run.stderr).toContain('[SAFETHREAD_TOP_LEVEL_START] Warning: ');
    expect(run.stderr).toMatch(/top-level\.ts starts a background child at its top level, and thread \d+ loaded it to find a task/);
  });

  it('shutdown() also stops a background child started by one being cancelled, and the program ends quietly', async () => {
    const run = await runProgram('started-while-stopping.ts', []);
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: 'shut down\n' });
  });

  it('says nothing more of a failure the program handled, and its sibling runs on', async () => {
    const run = await runProgram('failures.ts', ['handled']);
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: 'handled: RangeError: disk full\nsibling: 9\n' });
  });
});
