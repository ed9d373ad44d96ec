/**
 * The showcase: `npm start` runs every sample in turn. Each one also runs alone with
 * `npx ts-node samples/<name>.ts`.
 */
import { main as bankTransfer } from './bank-transfer';
import { main as counter } from './counter';
import { main as parallelMap } from './parallel-map';
import { main as search } from './search';

const samples: readonly (readonly [string, () => Promise<void>])[] = [
  ['counter', counter],
  ['parallel map', parallelMap],
  ['cancellable search', search],
  ['bank transfer deadlock', bankTransfer],
];

async function tour(): Promise<void> {
  for (const [name, run] of samples) {
    console.log(`\n=== ${name} ===`);
    await run();
  }
}

tour().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
