import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { branch, CancelledError, dumpMonitors, TimeoutError } from '../../lib';
import { latch } from '../helpers/latch';
import { captureWarnings } from '../helpers/warnings';

/**
 * A local child (`children.addLocal`) that ignores its cancellation cannot be ended: it runs on
 * this thread. After its grace the branch settles without it, and says so: a warning naming the
 * child and why its branch was cancelled, and a line in `dumpMonitors()` while it runs on.
 */

jest.setTimeout(30_000);

afterEach(() => jest.restoreAllMocks());

describe('a local child that outlives its grace', () => {
  it('is named in a warning with its branch, and shown by dumpMonitors() until it returns', async () => {
    const warned = captureWarnings();
    const stubborn = latch();
    const ended = branch(
      (children) => {
        children.addLocal(async () => 'quick');
        children.addLocal(async function pollForever() {
          await stubborn.promise;
        });
      },
      { timeoutMs: 20, graceMs: 20 },
    );
    await expect(ended).rejects.toBeInstanceOf(TimeoutError);
    expect(warned).toEqual([
      {
        code: 'SAFETHREAD_LOCAL_CHILD_ABANDONED',
        message:
          'local child pollForever (added 2nd) of a branch ran on for graceMs (20 ms) after its branch was cancelled (the branch timed out after 20 ms), so the branch settled without it; it runs on this thread, where it cannot be ended, so it runs on (and may keep the process alive) until it returns. Make it stop when currentToken() is cancelled: pass currentToken().signal to its I/O, or check currentToken().cancelled in its loops',
      },
    ]);
    const dump = await dumpMonitors();
    expect(dump.abandoned).toEqual([expect.stringMatching(/^local child pollForever \(added 2nd\), abandoned by its branch \d+\.\d s ago after its branch was cancelled \(the branch timed out after 20 ms\), still running on this thread$/)]);
    expect(String(dump)).toContain('abandoned: local child pollForever (added 2nd)');
    stubborn.open();
    await stubborn.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect((await dumpMonitors()).abandoned).toEqual([]);
  });

  it('is named when it was cancelled alone', async () => {
    const warned = captureWarnings();
    const stubborn = latch();
    await branch(
      (children) => {
        const child = children.addLocal(async function ignoresCancel() {
          await stubborn.promise;
        });
        child.cancel(new Error('not needed'));
      },
      { graceMs: 10 },
    );
    expect(warned.map((warning) => warning.message)).toEqual([expect.stringMatching(/^local child ignoresCancel \(added 1st\) of a branch ran on for graceMs \(10 ms\) after it was cancelled alone \(not needed\), so the branch settled without it/)]);
    stubborn.open();
  });

  it('says nothing of a local child that stops when cancelled', async () => {
    const warned = captureWarnings();
    const ended = branch(
      (children) => {
        children.addLocal(async () => {
          await new Promise((_, reject) => setTimeout(() => reject(new CancelledError('stop', 'poll')), 5));
        });
      },
      { timeoutMs: 1, graceMs: 2_000 },
    );
    await expect(ended).rejects.toBeInstanceOf(TimeoutError);
    expect(warned).toEqual([]);
    expect((await dumpMonitors()).abandoned).toEqual([]);
  });
});

describe('a process kept alive by an abandoned local child', () => {
  it('tells why on stderr while it runs on, then exits when the child returns', () => {
    const root = resolve(__dirname, '../..');
    const fixture = join(root, 'spec/fixtures/abandoned-local-child/outlives-branch.ts');
    const result = spawnSync(process.execPath, ['--import', 'tsx', fixture], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('branch settled: TimeoutError\nchild finished\n');
    expect(result.stderr).toContain(
      '[SAFETHREAD_LOCAL_CHILD_ABANDONED] Warning: local child fetchWithoutToken (added 1st) of a branch ran on for graceMs (20 ms) after its branch was cancelled (the branch timed out after 20 ms), so the branch settled without it',
    );
  });
});
