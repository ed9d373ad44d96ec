import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Channel, ChannelClosedError, dumpMonitors } from '../../lib';
import { settle } from '../helpers/latch';

/**
 * A channel wait that nothing will end is not a silent hang: `dumpMonitors()` shows it, with its
 * age and why it may never end, and a process that exits with one pending warns.
 */

jest.setTimeout(60_000);

const root = resolve(__dirname, '../..');
const fixture = join(root, 'spec/fixtures/channel-wait/exit-while-waiting.ts');

async function waitsShown(): Promise<string[]> {
  const dump = await dumpMonitors();
  return dump.monitors.filter((state) => state.monitor.startsWith('Channel#')).flatMap((state) => state.running.flatMap((turn) => turn.waitsFor));
}

describe('a channel wait in dumpMonitors()', () => {
  it('shows a waiting get, its age, and that nothing was ever put, until it ends', async () => {
    const channel = new Channel<number>(1);
    const got = channel.get();
    await settle();
    const shown = await waitsShown();
    expect(shown).toEqual([expect.stringMatching(/^a value: Channel#\d+\.get\(\) has waited \d+\.\d s; no producer has put anything into it, and it is not closed$/)]);
    expect(String(await dumpMonitors())).toMatch(/ {2}get waits for a value: Channel#\d+\.get\(\) has waited/);
    await channel.close();
    await expect(got).rejects.toBeInstanceOf(ChannelClosedError);
    expect(await waitsShown()).toEqual([]);
  });

  it('shows a waiting put, and that nothing was ever taken', async () => {
    const channel = new Channel<number>(1);
    await channel.put(1);
    const putting = channel.put(2);
    await settle();
    expect(await waitsShown()).toEqual([expect.stringMatching(/^room: Channel#\d+\.put\(\) has waited \d+\.\d s; no consumer has taken anything from it, and it is not closed$/)]);
    await expect(channel.get()).resolves.toBe(1);
    await putting;
    expect(await waitsShown()).toEqual([]);
  });

  it('says who may still fill it is unknown once plain code has put into it', async () => {
    const channel = new Channel<number>(1);
    await channel.put(1);
    await expect(channel.get()).resolves.toBe(1);
    const got = channel.get();
    await settle();
    expect(await waitsShown()).toEqual([expect.stringMatching(/; it was put into by more than one monitor turn or from outside any \(a child, plain code\), so whether anyone still will is unknown, and it is not closed$/)]);
    await channel.put(2);
    await expect(got).resolves.toBe(2);
  });

  it('listens for the process exit only while a wait lasts', async () => {
    const before = process.listenerCount('beforeExit');
    const channel = new Channel<number>(1);
    const got = channel.get();
    await settle();
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    await channel.put(7);
    await expect(got).resolves.toBe(7);
    expect(process.listenerCount('beforeExit')).toBe(before);
  });
});

describe('a process that exits while a channel waits', () => {
  const run = (mode: string) => spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: root, encoding: 'utf8', timeout: 30_000 });

  it('warns, naming the wait and why nothing could end it, instead of exiting silently', () => {
    const result = run('get');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('[SAFETHREAD_CHANNEL_WAIT] Warning: Channel#');
    expect(result.stderr).toMatch(/Channel#\d+\.get\(\) has waited \d+\.\d s and the process is about to exit, so it will never end and the code awaiting it never resumes: nothing left in the process could end it \(no producer has put anything into it, and it is not closed\)/);
    expect(result.stderr.match(/SAFETHREAD_CHANNEL_WAIT/g)).toHaveLength(1);
  });

  it('warns of a put that waits for room', () => {
    const result = run('put');
    expect(result.stdout).toBe('get failed: ChannelClosedError\n');
    expect(result.stderr).toMatch(/Channel#\d+\.put\(\) has waited \d+\.\d s and the process is about to exit.*\(no consumer has taken anything from it, and it is not closed\)/);
    expect(result.stderr.match(/SAFETHREAD_CHANNEL_WAIT/g)).toHaveLength(1);
  });

  it('says nothing when the wait ended before the exit', () => {
    const result = run('closed');
    expect(result.stdout).toBe('get failed: ChannelClosedError\n');
    expect(result.stderr).not.toContain('SAFETHREAD');
  });
});
