import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { codeCacheFile, codeCacheStart } from '../../lib/threads/code-cache';

/**
 * Where a worker's code cache of the one-file build lies, and what it is keyed by. That workers
 * really start from it, and that a program sees no difference, is proven on the packed package
 * (spec/packaging/package.spec.ts).
 */

let temp = '';
beforeAll(() => {
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'safethread-code-cache-')));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A stand-in for the built file at `path` under the temporary folder. */
function library(path: string): string {
  const file = join(temp, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '"use strict";\n');
  return file;
}

describe("a worker's code cache", () => {
  const offBefore = process.env['SAFETHREAD_CODE_CACHE'];
  afterEach(() => {
    if (offBefore === undefined) delete process.env['SAFETHREAD_CODE_CACHE'];
    else process.env['SAFETHREAD_CODE_CACHE'] = offBefore;
  });

  it("lies in node_modules/.cache/safethread of the project that installed the package, named for this Node and the file", () => {
    const file = library('app/node_modules/safethread/dist/lib/index.js');
    const cache = codeCacheFile(file, []) as string;
    expect(dirname(cache)).toBe(join(temp, 'app/node_modules/.cache/safethread'));
    expect(cache.slice(dirname(cache).length + 1)).toMatch(/^index\.js-v\d+\.\d+\.\d+-[a-z0-9]+-\d+-\d+-\d+-\d+\.v8-cache$/);
    expect(cache).toContain(`-${process.version}-${process.arch}-`);
  });

  it('lies under the package when it is not installed (a checkout or a link)', () => {
    const file = library('checkout/dist/lib/index.js');
    expect(dirname(codeCacheFile(file, []) as string)).toBe(join(temp, 'checkout/node_modules/.cache/safethread'));
  });

  it('is another file once the library file changed, so a cache of the old file is never used', () => {
    const file = library('changed/node_modules/safethread/dist/lib/index.js');
    const before = codeCacheFile(file, []);
    appendFileSync(file, '// changed\n');
    expect(codeCacheFile(file, [])).not.toBe(before);
  });

  it('is none with SAFETHREAD_CODE_CACHE=off, or when the library file is not there', () => {
    const file = library('off/node_modules/safethread/dist/lib/index.js');
    process.env['SAFETHREAD_CODE_CACHE'] = 'off';
    expect(codeCacheFile(file, [])).toBeUndefined();
    delete process.env['SAFETHREAD_CODE_CACHE'];
    expect(codeCacheFile(join(temp, 'missing/dist/lib/index.js'), [])).toBeUndefined();
  });

  it('is none for a worker started with --enable-source-maps: vm-compiled code has no source map', () => {
    const file = library('maps/node_modules/safethread/dist/lib/index.js');
    expect(codeCacheFile(file, ['--enable-source-maps'])).toBeUndefined();
    expect(codeCacheFile(file, ['--import', 'tsx'])).toBeDefined();
  });

  it('starts a worker from a bootstrap that compiles the library with the cache, as plain JavaScript', () => {
    const file = library('start/node_modules/safethread/dist/lib/index.js');
    const start = codeCacheStart(file, codeCacheFile(file, []) as string);
    expect(start.eval).toBe(true);
    // It parses as a script, and names both files.
    expect(() => new Function(start.filename)).not.toThrow();
    expect(start.filename).toContain(JSON.stringify(file));
    expect(start.filename).toContain(JSON.stringify(codeCacheFile(file, [])));
  });
});
