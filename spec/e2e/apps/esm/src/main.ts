import { fileURLToPath } from 'node:url';
import { scenario } from './work.js';

async function main(): Promise<void> {
  console.log(JSON.stringify(await scenario()));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
