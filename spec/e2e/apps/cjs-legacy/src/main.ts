import { scenario } from './work';

async function main(): Promise<void> {
  console.log(JSON.stringify(await scenario()));
}

if (require.main === module) void main();
