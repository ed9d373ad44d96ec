import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decoratorMode } from '../helpers/decorator-mode';

/**
 * The layering check that `npm test` runs (scripts/check-layers.js, lib/README.md): it passes on
 * lib/ as it is, and fails, naming the offence, on a copy of lib/ with an import pointing up a
 * layer or with a cycle of imports added back.
 */

const root = resolve(__dirname, '../..');
const script = join(root, 'scripts/check-layers.js');

function check(lib: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [script, '--lib', lib], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

// One subprocess per case reads lib/ as files: the decorator set-up of the jest project does not matter.
const describeOnce = decoratorMode === 'standard' ? describe : describe.skip;

describeOnce('the layering check', () => {
  let copies = '';
  beforeAll(() => {
    copies = mkdtempSync(join(tmpdir(), 'safethread-layers-'));
  });
  afterAll(() => rmSync(copies, { recursive: true, force: true }));

  function copyOfLib(name: string): string {
    const lib = join(copies, name, 'lib');
    cpSync(join(root, 'lib'), lib, { recursive: true });
    return lib;
  }

  it('passes on lib/ as it is', () => {
    expect(check(join(root, 'lib'))).toEqual({ status: 0, output: 'lib/: layers and imports are in order, no cycles at run time\n' });
  });

  it('fails on an import pointing up a layer, type imports too, naming both files and layers', () => {
    const lib = copyOfLib('upward');
    appendFileSync(join(lib, 'shareability/check.ts'), "\nimport type { Channel } from '../channel/channel';\nexport type Upward = Channel<number>;\n");
    const { status, output } = check(lib);
    expect(status).toBe(1);
    expect(output).toContain('shareability/check.ts (values) imports channel/channel.ts (features), a layer above it');
  });

  it('fails on a cycle of imports at run time, require() included, listing the files of the cycle', () => {
    const lib = copyOfLib('cycle');
    // Both in the values layer, so only the cycle is wrong: each now loads the other.
    appendFileSync(join(lib, 'shareability/freeze.ts'), "\nexport const loop = () => require('../cancellation/token-memory');\n");
    appendFileSync(join(lib, 'cancellation/token-memory.ts'), "\nimport '../shareability/freeze';\n");
    const { status, output } = check(lib);
    expect(status).toBe(1);
    expect(output).toMatch(/a cycle of imports at run time: .*cancellation\/token-memory\.ts.*shareability\/freeze\.ts|a cycle of imports at run time: .*shareability\/freeze\.ts.*cancellation\/token-memory\.ts/);
  });

  it('fails on a file that belongs to no layer', () => {
    const lib = copyOfLib('stray');
    appendFileSync(join(lib, 'stray.ts'), 'export const stray = 1;\n');
    const { status, output } = check(lib);
    expect(status).toBe(1);
    expect(output).toContain('stray.ts belongs to no layer');
  });
});
