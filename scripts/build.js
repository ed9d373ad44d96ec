// @ts-check
/**
 * The package's build (`npm run build`, which `prepack` runs): safethread in one file,
 * `dist/lib/index.js` with its source map, beside the declarations tsc emits for every source.
 *
 * One file because a worker thread starts by loading safethread, and a worker that resolves and
 * reads some sixty files spends most of its start-up doing that; the package's main file is also
 * what workers start on (threads/module-loader.ts), so that the user's `require('safethread')` on
 * a worker is the instance that runs it. tsc compiles (so the code is what it checks), to ES
 * modules in a temporary folder, which esbuild only links into one CommonJS file: dependencies
 * (acorn) and peer dependencies (rxjs, reflect-metadata) stay outside, loaded by `require` when
 * first needed as before. The source map leads through tsc's maps to the shipped `lib/*.ts`.
 *
 *   node scripts/build.js               build into dist/
 *   node scripts/build.js --outDir DIR  build into DIR (bench/cold-start.ts measures such a build)
 */
const { execFile } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { promisify } = require('node:util');

const ROOT = resolve(__dirname, '..');
const outDirOption = process.argv.indexOf('--outDir');
const OUT = outDirOption === -1 ? join(ROOT, 'dist') : resolve(process.argv[outDirOption + 1]);
const TSC = require.resolve('typescript/bin/tsc');
const CONFIG = join(ROOT, 'tsconfig.build.json');

const run = promisify(execFile);

/**
 * Runs tsc on the build's configuration with `args`, failing with what it printed.
 * @param {readonly string[]} args
 */
async function tsc(args) {
  try {
    await run(process.execPath, [TSC, '-p', CONFIG, ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = /** @type {{ stdout?: string, stderr?: string }} */ (error);
    throw new Error(`tsc ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

async function main() {
  // Everything under lib/ is generated: a per-file build left there must not ship beside the one file.
  rmSync(join(OUT, 'lib'), { recursive: true, force: true });
  const modules = mkdtempSync(join(tmpdir(), 'safethread-build-'));
  try {
    // The two compilations are independent: declarations for the package, modules for esbuild.
    await Promise.all([
      tsc(['--outDir', OUT, '--emitDeclarationOnly']),
      tsc(['--outDir', modules, '--declaration', 'false', '--module', 'esnext', '--moduleResolution', 'bundler']),
    ]);
    const esbuild = require('esbuild');
    await esbuild.build({
      entryPoints: [join(modules, 'lib', 'index.js')],
      outfile: join(OUT, 'lib', 'index.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'warning',
    });
  } finally {
    rmSync(modules, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
