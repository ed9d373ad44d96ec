/**
 * The showcase: `npm start` runs every sample in turn. Each one also runs alone with
 * `npx ts-node samples/<name>.ts`.
 */
import { main as background } from './background';
import { main as bankTransfer } from './bank-transfer';
import { main as counter } from './counter';
import { main as inventory } from './inventory';
import { main as locks } from './locks';
import { main as parallelMap } from './parallel-map';
import { main as pipeline } from './pipeline';
import { main as search } from './search';
import { main as sharedDict } from './shared-dict';
import { main as ticker } from './ticker';

const samples: readonly (readonly [string, string, () => Promise<void>])[] = [
  ['inventory (the README example)', 'inventory.ts', inventory],
  ['counter', 'counter.ts', counter],
  ['parallel map', 'parallel-map.ts', parallelMap],
  ['cancellable search', 'search.ts', search],
  ['bank transfer deadlock', 'bank-transfer.ts', bankTransfer],
  ['channel pipeline', 'pipeline.ts', pipeline],
  ['shared dictionary', 'shared-dict.ts', sharedDict],
  ['locks and semaphores', 'locks.ts', locks],
  ['cross-thread Observable', 'ticker.ts', ticker],
  ['background children', 'background.ts', background],
];

async function tour(): Promise<void> {
  const started = performance.now();
  console.log(`safethread tour: ${samples.length} samples; run one alone with npx ts-node samples/<file>`);
  for (const [index, [name, file, run]] of samples.entries()) {
    console.log(`\n=== ${index + 1}/${samples.length} ${name} (samples/${file}) ===`);
    await run();
  }
  console.log(`\ntour done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

tour().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
