import { pinToOneCpu } from './affinity';
import type { MeasureOptions } from './comparison';
import { OVERHEAD_PROCESSES, trackingOverheadInThisProcess, type OverheadProcess } from './deadlock-detection';
import { measure } from './measure';

/**
 * One child process of the `deadlock-tracking-overhead` comparison (bench/deadlock-detection.ts):
 * `node -r ts-node/register bench/deadlock-overhead-child.ts <off|on|branch> [overrides JSON]`.
 *
 * Pins itself to one CPU (bench/affinity.ts), measures the cases of its kind (which set deadlock
 * detection before any monitor is made) and prints the result as one JSON line, the last of
 * standard output.
 */

function parseArguments([kind, overrides]: readonly string[]): { readonly kind: OverheadProcess; readonly overrides: Partial<MeasureOptions> } {
  if (!OVERHEAD_PROCESSES.includes(kind as OverheadProcess)) {
    throw new Error(`deadlock-overhead-child: expected <${OVERHEAD_PROCESSES.join('|')}> [overrides JSON], got '${kind}'`);
  }
  return { kind: kind as OverheadProcess, overrides: overrides === undefined ? {} : (JSON.parse(overrides) as Partial<MeasureOptions>) };
}

async function main(): Promise<void> {
  const { kind, overrides } = parseArguments(process.argv.slice(2));
  const unpin = pinToOneCpu();
  try {
    console.log(JSON.stringify(await measure(trackingOverheadInThisProcess(kind), overrides)));
  } finally {
    unpin();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
