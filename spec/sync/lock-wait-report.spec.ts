import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { decoratorMode } from '../helpers/decorator-mode';

/**
 * A process that exits while an acquire waits (a permit was never released, and nothing else is
 * left to release it) warns, naming the wait and its holder, instead of exiting silently.
 */

jest.setTimeout(60_000);

const root = resolve(__dirname, '../..');
const fixture = join(root, 'spec/fixtures/sync-exit-while-waiting.ts');
const run = (mode: string) => spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: root, encoding: 'utf8', timeout: 30_000 });

// A program of its own: the decorator set-up of the jest project does not matter, so it runs once.
(decoratorMode === 'standard' ? describe : describe.skip)('a process that exits while an acquire waits', () => {
  it('warns, naming the wait and who holds the lock', () => {
    const result = run('forgotten');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /\[SAFETHREAD_LOCK_WAIT\] Warning: Lock#\d+\.acquire\(\) has waited \d+\.\d s and the process is about to exit, so it will never end and the code awaiting it never resumes: nothing left in the process could release the lock \(it is held by code outside any monitor turn \(main\)\)/,
    );
    expect(result.stderr.match(/SAFETHREAD_LOCK_WAIT/g)).toHaveLength(1);
  });

  it('names a semaphore wait with its count and the permits free', () => {
    const result = run('semaphore');
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Semaphore#\d+\.acquire\(2\) has waited \d+\.\d s and the process is about to exit.*\(it is held by code outside any monitor turn \(main\), 1 of 2 permits are free\)/);
  });

  it('says nothing when the permit was released', () => {
    const result = run('released');
    expect(result.stdout).toBe('acquired\n');
    expect(result.stderr).not.toContain('SAFETHREAD');
  });
});
