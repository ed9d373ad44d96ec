import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  BranchError,
  CancellationSource,
  CancelledError,
  configure,
  currentToken,
  DefinitionError,
  ShareabilityError,
  shutdown,
  sleep,
  ThreadCrashError,
  TimeoutError,
  branch,
} from '../../lib';
import {
  exitThread,
  failLater,
  failWith,
  frozenRecord,
  mutableResult,
  sleepy,
  slowSquare,
  square,
  stubborn,
  throwAtTopLevel,
} from '../fixtures/tasks';
import { decoratorMode } from '../helpers/decorator-mode';

// Workers load TypeScript themselves under jest; the first start of each thread takes a moment.
jest.setTimeout(30_000);

beforeAll(() => configure({ threads: 2 }));
afterAll(() => shutdown());

describe('branch', () => {
  it('resolves to the results in the order the children were added', async () => {
    const results = await branch<number>((children) => {
      children.add(slowSquare, 3, 30);
      children.add(square, 4);
      children.add(slowSquare, 5, 1);
    });
    expect(results).toEqual([9, 16, 25]);
  });

  it('delivers frozen results that may be passed on', async () => {
    const [record] = await branch<{ n: number; squares: readonly number[] }>((children) => {
      children.add(frozenRecord, 2);
    });
    expect(record).toEqual({ n: 2, squares: [4, 8] });
    expect(Object.isFrozen(record)).toBe(true);
    expect(Object.isFrozen(record?.squares)).toBe(true);
  });

  it('runs a self-contained inline function on a worker', async () => {
    const results = await branch<number>((children) => {
      children.add((a: number, b: number) => a * b, 6, 7);
      children.add(async (n: number) => (await Promise.resolve(n)) + 1, 1);
    });
    expect(results).toEqual([42, 2]);
  });

  it('refuses an inline function with a free variable before anything runs', async () => {
    const factor = 3;
    let ran = false;
    const attempt = branch((children) => {
      children.add((n: number) => n * factor, 2);
      ran = true;
    });
    await expect(attempt).rejects.toThrow(DefinitionError);
    await expect(attempt).rejects.toThrow(/uses the variable `factor` from outside itself/);
    expect(ran).toBe(false);
  });

  it('refuses arguments that are not shareable, naming the child and the fix', async () => {
    const attempt = branch((children) => {
      children.add(square, [1, 2] as unknown as number);
    });
    await expect(attempt).rejects.toThrow(ShareabilityError);
    await expect(attempt).rejects.toThrow('child square: argument 0 is a mutable Array; pass freeze(value) or a frozen copy');
  });

  it('rejects a child whose result is not shareable', async () => {
    const attempt = branch((children) => {
      children.add(mutableResult);
    });
    await expect(attempt).rejects.toThrow('child mutableResult: result is a mutable Array; pass freeze(value) or a frozen copy');
  });

  it('rejects with the failing child error, its class kept, and cancels its siblings', async () => {
    const started = Date.now();
    const attempt = branch((children) => {
      children.add(sleepy, 20_000);
      children.add(failLater, 'bad input', 50);
    });
    await expect(attempt).rejects.toThrow(RangeError);
    await expect(attempt).rejects.toThrow('bad input');
    // Hang guard only: the sleeping sibling was cancelled, not waited out.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('joins the child stack to the stack where the child was added', async () => {
    const error = (await branch((children) => void children.add(failWith, 'traced')).catch((caught: unknown) => caught)) as Error;
    expect(error.stack).toContain('failWith');
    expect(error.stack).toMatch(/thread boundary/);
    expect(error.stack).toContain('branch.spec.ts');
  });

  it('rejects with BranchError when several children fail on their own', async () => {
    const attempt = branch((children) => {
      // Both fail in the same tick, each on its own: neither is a reaction to the other's cancel.
      children.addLocal(() => Promise.reject(new RangeError('first')));
      children.addLocal(() => Promise.reject(new TypeError('second')));
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BranchError);
    expect((error as BranchError).errors.map((e) => (e as Error).message).sort()).toEqual(['first', 'second']);
  });

  it('rejects with the body error and cancels the children it started', async () => {
    const attempt = branch((children) => {
      children.add(sleepy, 20_000);
      throw new SyntaxError('body failed');
    });
    await expect(attempt).rejects.toThrow(SyntaxError);
  });

  it('rejects with TimeoutError, a CancelledError, after timeoutMs', async () => {
    const attempt = branch((children) => void children.add(sleepy, 20_000), { timeoutMs: 100 });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as TimeoutError).timeoutMs).toBe(100);
  });

  it('rejects with CancelledError carrying the reason when its signal aborts', async () => {
    const controller = new AbortController();
    const attempt = branch((children) => void children.add(sleepy, 20_000), { signal: controller.signal });
    setTimeout(() => controller.abort('user left'), 50);
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).reason).toBe('user left');
  });

  it('ends the thread of a child that ignores cancellation after graceMs, and the pool goes on', async () => {
    const attempt = branch(
      (children) => {
        children.add(stubborn, 20_000);
        children.add(failLater, 'stop', 100);
      },
      { graceMs: 200 },
    );
    await expect(attempt).rejects.toThrow('stop');
    await expect(branch<number>((children) => void children.add(square, 9))).resolves.toEqual([81]);
  });

  it('rejects with ThreadCrashError naming the child when its thread exits, then works again', async () => {
    const attempt = branch((children) => void children.add(exitThread, 3));
    await expect(attempt).rejects.toThrow(ThreadCrashError);
    await expect(attempt).rejects.toThrow(/child exitThread crashed its thread: it exited with code 3/);
    await expect(branch<number>((children) => void children.add(square, 5))).resolves.toEqual([25]);
  });

  it('rejects with ThreadCrashError when a child throws at the top level of its thread', async () => {
    const attempt = branch((children) => void children.add(throwAtTopLevel, 'escaped'));
    await expect(attempt).rejects.toThrow(ThreadCrashError);
    await expect(attempt).rejects.toThrow(/child throwAtTopLevel crashed its thread: uncaught Error: escaped/);
  });

  it('runs local children on this thread with the same rules', async () => {
    const seen: string[] = [];
    const results = await branch<string>((children) => {
      children.addLocal(async () => {
        await sleep(10);
        seen.push('local');
        return 'a';
      });
      children.add(square, 2);
    });
    expect(results).toEqual(['a', 4]);
    expect(seen).toEqual(['local']);
  });

  it("runs a local child's cancel callbacks during the cancel that reaches its branch, with the branch's reason", async () => {
    const source = new CancellationSource();
    const heard: unknown[] = [];
    const attempt = branch((children) => {
      for (let n = 0; n < 3; n++) {
        children.addLocal(() => {
          const token = currentToken();
          token.onCancel((reason) => heard.push(reason));
          // Stops when cancelled, as a well-behaved child does.
          return new Promise<void>((resolve) => token.onCancel(() => resolve()));
        });
      }
    }, { token: source.token });
    const outcome = attempt.then(() => 'resolved', (error: unknown) => error);
    await sleep(10);
    source.cancel('enough');
    // Within cancel(), on this thread: not a moment later.
    expect(heard).toHaveLength(3);
    expect(heard.every((reason) => reason instanceof CancelledError && reason.reason === 'enough')).toBe(true);
    expect(await outcome).toBeInstanceOf(CancelledError);
  });

  it('does not count a child cancelled on its own as a failure', async () => {
    const results = await branch<unknown>((children) => {
      const slow = children.add(sleepy, 20_000);
      children.addLocal(async () => {
        slow.cancel('not needed');
        return 'found';
      });
    });
    expect(results).toEqual([undefined, 'found']);
  });

  // A subprocess compiles with the repository's own settings whatever this project's are: once is enough.
  // Its guard is generous: ts-node compiles the library's sources on the main thread and again on a worker.
  (decoratorMode === 'standard' ? it : it.skip)('lets a program that used branch exit by itself', () => {
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../fixtures/exits-by-itself.ts')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('[9,16]');
    expect(run.status).toBe(0);
  }, 90_000);
});
