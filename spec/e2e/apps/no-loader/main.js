// A program that loads its TypeScript through a require hook of its own, with a TypeScript from
// outside the project (its path is the first argument), which worker threads do not have, in an
// application with no TypeScript loader installed (no tsx, @swc-node/register, ts-node nor
// typescript): a worker cannot load src/work.ts, and the error must say which file, why, and
// which loader to add.
const { readFileSync } = require('node:fs');
const ts = require(process.argv[2]);

require.extensions['.ts'] = (module, filename) => {
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 };
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename }).outputText, filename);
};

async function main() {
  try {
    const { branch } = require('safethread');
    const { square } = require('./src/work.ts');
    const results = await branch((children) => {
      children.add(square, 2);
    });
    console.log(JSON.stringify({ results }));
  } catch (error) {
    const causes = Array.isArray(error.errors) ? error.errors.map((each) => each.message) : [];
    console.log(JSON.stringify({ name: error.name, message: [error.message, ...causes].join('\n') }));
  }
}

if (require.main === module) void main();
