// @ts-check
/**
 * Checks the shape of lib/ (see lib/README.md): every file belongs to one layer, imports only from
 * its own layer or the layers below it (type imports too), and no files import each other in a
 * cycle at run time (imports that survive compilation, and require() calls).
 *
 * Run by `npm test`; exits with 1 and lists every offence when the shape is broken.
 *   node scripts/check-layers.js          check lib/
 *   node scripts/check-layers.js --graph  also print each file's layer and imports
 *   node scripts/check-layers.js --lib D  check the folder D laid out like lib/ (the spec's copies)
 */
const { readFileSync, readdirSync, statSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');
const ts = require('typescript');

const libOption = process.argv.indexOf('--lib');
const LIB = libOption === -1 ? resolve(__dirname, '../lib') : resolve(process.argv[libOption + 1]);

/**
 * The layers, lowest first, and which files belong to each: a folder (ending in `/`) or a file,
 * relative to lib/. A file matches its longest entry.
 */
const LAYERS = [
  ['contracts', ['types.ts', 'errors/', 'threads/protocol.ts', 'threads/wire-types.ts']],
  ['runtime kernel', ['runtime.ts']],
  [
    'values',
    [
      'shareability/',
      'cancellation/',
      'threads/serialize.ts',
      'threads/codec-registry.ts',
      'threads/serialize-error.ts',
      'threads/error-class-location.ts',
      'threads/module-loader.ts',
      'threads/typescript-loader.ts',
      'threads/loading-module.ts',
      'threads/inline-function.ts',
      'threads/task.ts',
      'threads/call-key.ts',
      'threads/outcome.ts',
      'threads/thread-liveness.ts',
      'observables.ts',
    ],
  ],
  ['transport', ['threads/batched-port.ts', 'threads/transport.ts', 'threads/router.ts', 'threads/actor-threads.ts']],
  [
    'monitor',
    [
      'monitor/',
      'deadlock/monitor-call.ts',
      'deadlock/detector.ts',
      'deadlock/wait-tracking.ts',
      'decorators/class-location.ts',
    ],
  ],
  ['rpc', ['monitor/remote-monitor.ts', 'monitor/exported-monitors.ts', 'monitor/monitor-messages.ts']],
  ['features', ['decorators/', 'scope/', 'threads/', 'channel/', 'deadlock/', 'sync/', 'shared-dict/']],
  ['adapters', ['rxjs/']],
  ['start-up', ['index.ts', 'threads/worker-entry.ts', 'threads/main-thread.ts']],
];

/** @param {string} file a path relative to lib/, with `/` separators */
function layerOf(file) {
  let best = { index: -1, length: -1 };
  LAYERS.forEach(([, entries], index) => {
    for (const entry of entries) {
      const matches = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (matches && entry.length > best.length) best = { index, length: entry.length };
    }
  });
  return best.index;
}

/** @param {string} folder @returns {string[]} */
function typescriptFiles(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return typescriptFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** lib/-relative name of an import from `file`, or undefined for a package or a file outside lib/. */
function resolveImport(/** @type {string} */ file, /** @type {string} */ specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(file), specifier);
  for (const candidate of [`${target}.ts`, join(target, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return relative(LIB, candidate).split(sep).join('/');
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Every import of the source, type-only ones included (the layering rule). */
function allImports(/** @type {string} */ file, /** @type {string} */ source) {
  return ts.preProcessFile(source, true, true).importedFiles.map((imported) => imported.fileName);
}

/** The imports left after compilation (type-only ones are erased), and require() calls: what runs. */
function runtimeImports(/** @type {string} */ file, /** @type {string} */ source) {
  const output = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, isolatedModules: true, experimentalDecorators: false },
  }).outputText;
  return [...output.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]);
}

function check() {
  const files = typescriptFiles(LIB).map((path) => ({ path, name: relative(LIB, path).split(sep).join('/') }));
  /** @type {string[]} */
  const offences = [];
  /** @type {Map<string, string[]>} */
  const runtimeGraph = new Map();
  const graph = process.argv.includes('--graph');
  for (const { path, name } of files) {
    const source = readFileSync(path, 'utf8');
    const layer = layerOf(name);
    if (layer < 0) {
      offences.push(`${name} belongs to no layer: add it to LAYERS in scripts/check-layers.js and lib/README.md`);
      continue;
    }
    const imports = [...new Set(allImports(path, source).map((specifier) => resolveImport(path, specifier)).filter((n) => n !== undefined))];
    for (const imported of imports) {
      const importedLayer = layerOf(imported);
      if (importedLayer > layer) {
        offences.push(`${name} (${LAYERS[layer][0]}) imports ${imported} (${LAYERS[importedLayer][0]}), a layer above it`);
      }
    }
    runtimeGraph.set(name, [...new Set(runtimeImports(path, source).map((specifier) => resolveImport(path, specifier)).filter((n) => n !== undefined))]);
    if (graph) console.log(`${LAYERS[layer][0].padEnd(15)} ${name} -> ${imports.join(', ')}`);
  }
  for (const cycle of cycles(runtimeGraph)) offences.push(`a cycle of imports at run time: ${cycle.join(' -> ')}`);
  return offences;
}

/** The strongly connected components with more than one file (or a file importing itself), each as a path. */
function cycles(/** @type {Map<string, string[]>} */ graph) {
  // Tarjan's algorithm, iterative enough for a few hundred files.
  let index = 0;
  /** @type {Map<string, number>} */ const indices = new Map();
  /** @type {Map<string, number>} */ const lowLinks = new Map();
  /** @type {string[]} */ const stack = [];
  const onStack = new Set();
  /** @type {string[][]} */ const found = [];
  const visit = (/** @type {string} */ node) => {
    indices.set(node, index);
    lowLinks.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        lowLinks.set(node, Math.min(/** @type {number} */ (lowLinks.get(node)), /** @type {number} */ (lowLinks.get(next))));
      } else if (onStack.has(next)) {
        lowLinks.set(node, Math.min(/** @type {number} */ (lowLinks.get(node)), /** @type {number} */ (indices.get(next))));
      }
    }
    if (lowLinks.get(node) === indices.get(node)) {
      /** @type {string[]} */ const component = [];
      let member;
      do {
        member = /** @type {string} */ (stack.pop());
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.reverse());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

const offences = check();
if (offences.length > 0) {
  console.error(`lib/ breaks its layering (${offences.length}):\n${offences.map((offence) => `  - ${offence}`).join('\n')}`);
  process.exit(1);
}
console.log('lib/: layers and imports are in order, no cycles at run time');
