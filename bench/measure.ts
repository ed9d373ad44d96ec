import type { BenchCase, Check, Comparison, LatencyCase, LatencyComparison, LatencyOptions, LatencyTarget, MeasureOptions, Target } from './comparison';

/**
 * The harness: measures the cases of one comparison side by side and turns the samples into
 * medians and ratios.
 *
 * This machine's speed switches between two levels within seconds, so timing case A for ten
 * seconds and then case B would compare the machine with itself, not A with B. Instead every
 * case is first warmed up and calibrated (so one sample lasts about `sampleMs`), then the cases
 * are timed in rounds, A B C, C B A, A B C ..., each sample a short run of the case's own loop.
 * A ratio is computed within each round, between samples taken a few milliseconds apart, and
 * the median over rounds is reported: a round that straddles a speed switch or a garbage
 * collection is an outlier the median ignores.
 */

/** The median and quartiles of a set of figures. */
export interface Spread {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
}

export interface CaseResult {
  readonly name: string;
  /** Operations in one sample, as calibrated. */
  readonly iterations: number;
  /** Nanoseconds per operation, one figure per round. */
  readonly samples: readonly number[];
  readonly nsPerOp: Spread;
  /** `1e9 / nsPerOp.median`. */
  readonly opsPerSecond: number;
  /** Per-round `ns/op of this case / ns/op of the anchor`. */
  readonly ratioToAnchor: Spread;
}

export interface TargetResult extends Target {
  readonly versus: string;
  /** Median over rounds of `ns/op of case / ns/op of versus`; for a {@link Check}, the figure it counted. */
  readonly ratio: number;
  readonly met: boolean;
  /** Set for a {@link Check}: its figure as the report shows it. */
  readonly checked?: string;
}

export interface ComparisonResult {
  readonly name: string;
  readonly summary: string;
  readonly anchor: string;
  readonly options: MeasureOptions;
  readonly cases: readonly CaseResult[];
  readonly targets: readonly TargetResult[];
}

export const DEFAULT_OPTIONS: MeasureOptions = { rounds: 25, sampleMs: 20, warmupMs: 250 };

/** Warms up, calibrates and measures every case of `comparison`, interleaved. */
export async function measure(comparison: Comparison, overrides: Partial<MeasureOptions> = {}): Promise<ComparisonResult> {
  const options: MeasureOptions = { ...DEFAULT_OPTIONS, ...comparison.options, ...overrides };
  const { cases } = comparison;
  // Fail on a misspelt case name before spending any time measuring.
  caseIndex(comparison, comparison.anchor);
  for (const target of comparison.targets ?? []) {
    caseIndex(comparison, target.case);
    caseIndex(comparison, target.versus ?? comparison.anchor);
  }
  for (const check of comparison.checks ?? []) caseIndex(comparison, check.case);

  return await betweenSetUpAndTearDown(comparison, async () => {
    const iterations = await calibrate(cases, options);
    const samples = cases.map((): number[] => []);
    const forward = cases.map((_, index) => index);
    const backward = [...forward].reverse();
    for (let round = 0; round < options.rounds; round++) {
      for (const index of round % 2 === 0 ? forward : backward) {
        const iterationsOfCase = iterations[index];
        samples[index].push((await timeSample(cases[index], iterationsOfCase)) / iterationsOfCase);
      }
    }
    const summary = summarize(comparison, options, iterations, samples);
    return { ...summary, targets: [...summary.targets, ...(comparison.checks ?? []).map(evaluateCheck)] };
  });
}

/**
 * Runs `body` between the comparison's `setUp` and `tearDown`. `tearDown` runs even when `setUp`
 * fails part-way, so a comparison stops whatever did start without a try of its own; then the
 * first error is the one reported (a tearDown that checks the cases' results would only add noise).
 */
async function betweenSetUpAndTearDown<T>(comparison: Pick<Comparison, 'setUp' | 'tearDown'>, body: () => Promise<T>): Promise<T> {
  let outcome: T;
  try {
    await comparison.setUp?.();
    outcome = await body();
  } catch (error) {
    try {
      await comparison.tearDown?.();
    } catch {
      // The first error is the one to report.
    }
    throw error;
  }
  await comparison.tearDown?.();
  return outcome;
}

/**
 * Runs every case, round-robin, for `warmupMs` each, growing its iteration count until one
 * sample lasts about `sampleMs`; returns the calibrated counts.
 */
async function calibrate(cases: readonly BenchCase[], options: MeasureOptions): Promise<number[]> {
  const sampleNs = options.sampleMs * 1e6;
  const iterations = cases.map(() => 1);
  const spentNs = cases.map(() => 0);
  while (spentNs.some((spent) => spent < options.warmupMs * 1e6)) {
    for (let index = 0; index < cases.length; index++) {
      if (spentNs[index] >= options.warmupMs * 1e6) continue;
      const count = iterations[index];
      const elapsed = Math.max(await timeSample(cases[index], count), 1);
      spentNs[index] += elapsed;
      iterations[index] = Math.max(1, Math.min(count * 10, Math.round((count * sampleNs) / elapsed)));
    }
  }
  return iterations;
}

/** Times one sample: `prepare` untimed, then `run`, including the promise it returns. */
async function timeSample(benchCase: BenchCase, iterations: number): Promise<number> {
  // Let whatever the previous sample left (timers, I/O callbacks) run outside the timed part.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await benchCase.prepare?.(iterations);
  const start = process.hrtime.bigint();
  const pending = benchCase.run(iterations);
  if (pending !== undefined) await pending;
  return Number(process.hrtime.bigint() - start);
}

function summarize(comparison: Comparison, options: MeasureOptions, iterations: readonly number[], samples: readonly (readonly number[])[]): ComparisonResult {
  const anchorSamples = samples[caseIndex(comparison, comparison.anchor)];
  const cases = comparison.cases.map((benchCase, index): CaseResult => {
    const own = samples[index];
    const nsPerOp = spread(own);
    return {
      name: benchCase.name,
      iterations: iterations[index],
      samples: own,
      nsPerOp,
      opsPerSecond: 1e9 / nsPerOp.median,
      ratioToAnchor: spread(perRoundRatios(own, anchorSamples)),
    };
  });
  const targets = (comparison.targets ?? []).map((target): TargetResult => {
    const versus = target.versus ?? comparison.anchor;
    const ratios = perRoundRatios(samples[caseIndex(comparison, target.case)], samples[caseIndex(comparison, versus)]);
    const ratio = spread(ratios).median;
    const met = (target.atMost === undefined || ratio <= target.atMost) && (target.atLeast === undefined || ratio >= target.atLeast);
    return { ...target, versus, ratio, met };
  });
  return { name: comparison.name, summary: comparison.summary, anchor: comparison.anchor, options, cases, targets };
}

function evaluateCheck(check: Check): TargetResult {
  const figure = check.figure();
  const met = (check.atMost === undefined || figure <= check.atMost) && (check.atLeast === undefined || figure >= check.atLeast);
  return { case: check.case, versus: check.case, atMost: check.atMost, atLeast: check.atLeast, label: check.label, ratio: figure, met, checked: check.format?.(figure) ?? String(figure) };
}

function caseIndex(comparison: Comparison, name: string): number {
  const index = comparison.cases.findIndex((benchCase) => benchCase.name === name);
  if (index < 0) {
    const known = comparison.cases.map((benchCase) => `'${benchCase.name}'`).join(', ');
    throw new Error(`Comparison '${comparison.name}' has no case '${name}'; its cases are ${known}`);
  }
  return index;
}

function perRoundRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  return numerators.map((value, round) => value / denominators[round]);
}

/** Median and quartiles, interpolating between the two nearest figures. */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p25: quantile(sorted, 0.25), p75: quantile(sorted, 0.75) };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const lower = sorted[below];
  const upper = sorted[Math.min(below + 1, sorted.length - 1)];
  return lower + (upper - lower) * (position - below);
}

/* ---------------------------------------------------------------------------------------------
 * Latency comparisons (see `LatencyComparison`): one event per case per round, interleaved,
 * reported as median and 90th percentile in milliseconds against absolute bounds.
 * ------------------------------------------------------------------------------------------- */

export interface LatencyCaseResult {
  readonly name: string;
  /** Milliseconds from `fire()` until the event settled, one figure per round, in the order taken. */
  readonly samplesMs: readonly number[];
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface LatencyTargetResult extends LatencyTarget {
  readonly statistic: 'median' | 'p90';
  readonly allowanceMs: number;
  /** `statistic - allowanceMs`, the figure held to `atMostMs`. */
  readonly figureMs: number;
  readonly met: boolean;
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly name: string;
  readonly summary: string;
  readonly options: LatencyOptions;
  readonly cases: readonly LatencyCaseResult[];
  readonly targets: readonly LatencyTargetResult[];
}

export const DEFAULT_LATENCY_OPTIONS: LatencyOptions = { rounds: 40, warmupRounds: 3 };

/**
 * Times the events of every case of `comparison`, one per case per round, in alternating order,
 * after `warmupRounds` untimed rounds. Of the command-line overrides only `rounds` applies.
 */
export async function measureLatency(comparison: LatencyComparison, overrides: Partial<MeasureOptions> = {}): Promise<LatencyResult> {
  const options: LatencyOptions = { ...DEFAULT_LATENCY_OPTIONS, ...comparison.options, ...(overrides.rounds !== undefined && { rounds: overrides.rounds }) };
  const { cases } = comparison;
  for (const target of comparison.targets ?? []) latencyCaseIndex(comparison, target.case);

  return await betweenSetUpAndTearDown(comparison, async () => {
    const samples = cases.map((): number[] => []);
    const forward = cases.map((_, index) => index);
    const backward = [...forward].reverse();
    for (let round = -options.warmupRounds; round < options.rounds; round++) {
      for (const index of round % 2 === 0 ? forward : backward) {
        const elapsedMs = await timeEvent(comparison.name, cases[index]);
        if (round >= 0) samples[index].push(elapsedMs);
      }
    }
    return summarizeLatency(comparison, options, samples);
  });
}

/**
 * Arms one event (untimed), times it from `fire()` to its settling (or takes the time it measured
 * itself, see `LatencyTrial.timedMs`), verifies and recovers (untimed).
 */
async function timeEvent(comparisonName: string, latencyCase: LatencyCase): Promise<number> {
  const trial = await latencyCase.arm();
  let end: bigint | undefined;
  const stamp = (): void => {
    end = process.hrtime.bigint();
  };
  const outcome = trial.settles.then(
    (value: unknown): PromiseSettledResult<unknown> => (stamp(), { status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<unknown> => (stamp(), { status: 'rejected', reason }),
  );
  // Let whatever arming left behind (timers, I/O callbacks) run outside the timed part.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (end !== undefined) {
    const early = await outcome;
    const detail = early.status === 'rejected' ? `: ${String(early.reason)}` : '';
    throw new Error(`${comparisonName}: '${latencyCase.name}' settled before it was fired${detail}`);
  }
  const start = process.hrtime.bigint();
  trial.fire();
  const settled = await outcome;
  const elapsedMs = Number((end ?? start) - start) / 1e6;
  await trial.verify?.(settled);
  await latencyCase.recover?.();
  return trial.timedMs?.(settled) ?? elapsedMs;
}

function summarizeLatency(comparison: LatencyComparison, options: LatencyOptions, samples: readonly (readonly number[])[]): LatencyResult {
  const cases = comparison.cases.map((latencyCase, index): LatencyCaseResult => {
    const sorted = [...samples[index]].sort((a, b) => a - b);
    return {
      name: latencyCase.name,
      samplesMs: samples[index],
      medianMs: quantile(sorted, 0.5),
      p90Ms: quantile(sorted, 0.9),
      minMs: sorted[0] ?? Number.NaN,
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    };
  });
  const targets = (comparison.targets ?? []).map((target): LatencyTargetResult => {
    const measured = cases[latencyCaseIndex(comparison, target.case)];
    const statistic = target.statistic ?? 'median';
    const allowanceMs = target.allowanceMs ?? 0;
    const figureMs = (statistic === 'median' ? measured.medianMs : measured.p90Ms) - allowanceMs;
    return { ...target, statistic, allowanceMs, figureMs, met: figureMs <= target.atMostMs };
  });
  return { kind: 'latency', name: comparison.name, summary: comparison.summary, options, cases, targets };
}

function latencyCaseIndex(comparison: LatencyComparison, name: string): number {
  const index = comparison.cases.findIndex((latencyCase) => latencyCase.name === name);
  if (index < 0) {
    const known = comparison.cases.map((latencyCase) => `'${latencyCase.name}'`).join(', ');
    throw new Error(`Comparison '${comparison.name}' has no case '${name}'; its cases are ${known}`);
  }
  return index;
}
