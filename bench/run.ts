import type { Comparison, LatencyComparison, MeasureOptions, ProcessesComparison } from './comparison';
import { measure, measureLatency, type ComparisonResult, type LatencyResult } from './measure';
import { createReport, formatResult, formatSummary } from './report';
import { cancelLatencyCooperative, cancelLatencyForced } from './cancel-latency';
import { channelThroughput, channelThroughputUnpinned } from './channel-throughput';
import { coldStart } from './cold-start';
import { childrenSequential } from './children-sequential';
import { childrenThroughput } from './children-throughput';
import { childrenCpu, cpuChildren } from './cpu-children';
import { crossThreadCall } from './cross-thread-call';
import { deadlockDetectionLatency, deadlockTrackingOverhead } from './deadlock-detection';
import { largeValue } from './large-value';
import { monitorRelease } from './monitor-release';
import { pipelinedCalls } from './pipelined-calls';
import { sameThreadCall } from './same-thread-call';
import { scaling } from './scaling';
import { scalingChannel } from './scaling-channel';
import { shareabilityCheck } from './shareability-check';
import { sharedDictRead } from './shared-dict-read';
import { streamThroughput } from './stream-throughput';
import { tokenRead } from './token-read';

/**
 * `npm run bench [-- [filter ...] [--rounds=N] [--sample-ms=N] [--warmup-ms=N] [--check]]`
 *
 * Runs every comparison whose name contains one of the filters (all of them without a filter),
 * one after the other, prints a table per comparison, then the JSON document with every figure
 * as the LAST line of standard output (`npm run bench --silent | tail -n 1` gives it to a tool).
 * With `--check` the exit code is 1 when a target is missed.
 *
 * A new bench is a file exporting a function that returns a {@link Comparison} (or, for the time
 * single events take, a {@link LatencyComparison}; for cases that each need a process of their own,
 * a {@link ProcessesComparison}); add it here. Of the options, latency comparisons take only
 * `--rounds`; a processes comparison passes them on to its children.
 */
const ALL_COMPARISONS: readonly (() => Comparison | LatencyComparison | ProcessesComparison)[] = [
  sameThreadCall,
  shareabilityCheck,
  tokenRead,
  crossThreadCall,
  pipelinedCalls,
  cpuChildren,
  childrenThroughput,
  childrenSequential,
  childrenCpu,
  largeValue,
  cancelLatencyCooperative,
  cancelLatencyForced,
  deadlockDetectionLatency,
  deadlockTrackingOverhead,
  channelThroughput,
  channelThroughputUnpinned,
  streamThroughput,
  monitorRelease,
  scaling,
  scalingChannel,
  sharedDictRead,
  coldStart,
];

/** A mistake on the command line: reported by its message alone, without a stack. */
class UsageError extends Error {}

interface CommandLine {
  readonly filters: readonly string[];
  readonly overrides: Partial<MeasureOptions>;
  readonly check: boolean;
}

const NUMERIC_FLAGS: Readonly<Record<string, keyof MeasureOptions>> = {
  '--rounds': 'rounds',
  '--sample-ms': 'sampleMs',
  '--warmup-ms': 'warmupMs',
};

function parseCommandLine(args: readonly string[]): CommandLine {
  const filters: string[] = [];
  const overrides: { -readonly [K in keyof MeasureOptions]?: number } = {};
  let check = false;
  for (const arg of args) {
    if (!arg.startsWith('--')) {
      filters.push(arg);
      continue;
    }
    if (arg === '--check') {
      check = true;
      continue;
    }
    const [flag, value] = arg.split('=');
    const option = NUMERIC_FLAGS[flag];
    const number = Number(value);
    if (option === undefined || !(number > 0)) {
      throw new UsageError(`Unknown or invalid option ${arg}; expected a filter, --check, or ${Object.keys(NUMERIC_FLAGS).join('|')}=<positive number>`);
    }
    overrides[option] = number;
  }
  return { filters, overrides, check };
}

async function main(): Promise<void> {
  const { filters, overrides, check } = parseCommandLine(process.argv.slice(2));
  const comparisons = ALL_COMPARISONS.map((create) => create());
  const selected = comparisons.filter((comparison) => filters.length === 0 || filters.some((filter) => comparison.name.includes(filter)));
  if (selected.length === 0) {
    throw new UsageError(`No comparison matches ${filters.join(', ')}; there are ${comparisons.map((comparison) => comparison.name).join(', ')}`);
  }

  const startedAt = new Date();
  const results: (ComparisonResult | LatencyResult)[] = [];
  for (const comparison of selected) {
    const result =
      comparison.kind === 'latency' ? await measureLatency(comparison, overrides) : comparison.kind === 'processes' ? await comparison.measure(overrides) : await measure(comparison, overrides);
    results.push(result);
    console.log(`${formatResult(result)}\n`);
  }
  const report = createReport(startedAt, overrides, results);
  console.log(formatSummary(report));
  console.log(JSON.stringify(report));
  if (check && report.targetsMet < report.targetsTotal) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = 2;
});
