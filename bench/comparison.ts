import type { ComparisonResult } from './measure';

/**
 * What a bench file declares: a comparison of a few cases measured side by side, and the
 * targets (from DESIGN.md, "Performance targets") that their ratios must meet.
 *
 * Every figure that matters is a ratio between cases of one comparison measured in the same run,
 * never an absolute time: this machine's speed changes within seconds, a ratio of neighbours
 * does not.
 */

/** One measured operation. */
export interface BenchCase {
  /** Unique within its comparison; targets and the report refer to the case by it. */
  readonly name: string;
  /**
   * Untimed preparation for the next {@link run} with the same `iterations`, such as building
   * fresh inputs that the run consumes. Optional.
   */
  readonly prepare?: (iterations: number) => void | Promise<void>;
  /** Timed: performs the operation `iterations` times (the loop is in the case, not the harness). */
  readonly run: (iterations: number) => void | Promise<void>;
}

/**
 * A bound on the ratio `time per op of case / time per op of versus` (below 1: `case` is faster).
 * Throughput targets are bounds on the same ratio: "at least 5x the throughput" is `atMost: 0.2`.
 */
export interface Target {
  readonly case: string;
  /** The case to divide by. @default the comparison's anchor */
  readonly versus?: string;
  readonly atMost?: number;
  readonly atLeast?: number;
  /** How the report states the target, e.g. `within 2x of plain await`. */
  readonly label: string;
}

/**
 * A target on a figure the comparison counts itself rather than on a time ratio, such as how many
 * times a value was serialized. Read once, after the last round and before {@link Comparison.tearDown}.
 */
export interface Check {
  /** The case the figure is about; the report shows the check on its row. */
  readonly case: string;
  readonly figure: () => number;
  readonly atMost?: number;
  readonly atLeast?: number;
  /** How the report states the target, e.g. `serialized once`. */
  readonly label: string;
  /** How the report shows the figure, e.g. `1 serialization`. @default the number */
  readonly format?: (figure: number) => string;
}

/** How long to measure. Each comparison may override part of the defaults. */
export interface MeasureOptions {
  /** Rounds; each round times every case once, in alternating order. @default 25 */
  readonly rounds: number;
  /** The time one sample of one case aims at. @default 20 */
  readonly sampleMs: number;
  /** Time spent running each case before any sample is kept (JIT warm-up and calibration). @default 250 */
  readonly warmupMs: number;
}

/** A group of cases that are only meaningful against each other. */
export interface Comparison {
  /** What kind of comparison this is: ratios of throughputs (this), or a {@link LatencyComparison}. @default 'ratio' */
  readonly kind?: 'ratio';
  /** Kebab-case, matched by the command-line filter, e.g. `same-thread-call`. */
  readonly name: string;
  /** One sentence: what is measured and why. */
  readonly summary: string;
  /** The case every other case is divided by in the report. */
  readonly anchor: string;
  readonly cases: readonly BenchCase[];
  readonly targets?: readonly Target[];
  /** Targets on counted figures; the report lists them with the ratio targets. */
  readonly checks?: readonly Check[];
  readonly options?: Partial<MeasureOptions>;
  /** Starts what the cases need (workers, ports). */
  readonly setUp?: () => void | Promise<void>;
  /** Stops everything {@link setUp} started, so the process can exit by itself; runs even when `setUp` failed part-way. */
  readonly tearDown?: () => void | Promise<void>;
}

/*
 * Latency comparisons: the time a single event takes to run its course (a cancel until the branch
 * settles), against an absolute bound in milliseconds.
 *
 * The ratio model above does not fit such figures: one event cannot be looped a million times to
 * fill a sample, each event may need untimed preparation (a child started and known to be
 * running) and untimed recovery (a thread replaced), and the target is an absolute time from
 * DESIGN.md, not a ratio to a neighbour. So a latency comparison times one event per case per
 * round, still interleaving the cases (A B C, C B A, ...) so that a slow phase of the machine
 * falls on all of them, and reports the median and the 90th percentile of the events.
 */

/** One event of a {@link LatencyCase}, prepared and ready to be set off. */
export interface LatencyTrial {
  /** Sets the event off; the timed span starts just before this call. */
  readonly fire: () => void;
  /** Settles (fulfilled or rejected, either way) when the event is over; the timed span ends then. */
  readonly settles: Promise<unknown>;
  /**
   * Untimed, after the event: throws if it did not end as it should (e.g. the branch resolved
   * when it should have rejected with a `CancelledError`), which fails the bench.
   */
  readonly verify?: (outcome: PromiseSettledResult<unknown>) => void | Promise<void>;
  /**
   * For an event that times itself where it happens (on another thread, or from a call made deep
   * inside the event): reads the milliseconds it measured from its outcome, after {@link verify};
   * the report shows them instead of the span from `fire()` to settling. Optional.
   */
  readonly timedMs?: (outcome: PromiseSettledResult<unknown>) => number;
}

/** One kind of event, timed once per round. */
export interface LatencyCase {
  /** Unique within its comparison; targets and the report refer to the case by it. */
  readonly name: string;
  /** Untimed: prepares one event (e.g. starts a child and waits until it runs) and returns it armed. */
  readonly arm: () => Promise<LatencyTrial>;
  /** Untimed, after each event: restores what the event used up (e.g. waits for the pool to replace a thread). */
  readonly recover?: () => void | Promise<void>;
}

/** A bound, in milliseconds, on a statistic of a case's latencies. */
export interface LatencyTarget {
  readonly case: string;
  /** The bound on `statistic - allowanceMs`. */
  readonly atMostMs: number;
  /** A part of the latency the design grants (e.g. `graceMs`), subtracted before comparing. @default 0 */
  readonly allowanceMs?: number;
  /** Which figure of the events is held to the bound. @default 'median' */
  readonly statistic?: 'median' | 'p90';
  /** How the report states the target, e.g. `median under 1 ms`. */
  readonly label: string;
}

/** How many events to time. Each latency comparison may override part of the defaults. */
export interface LatencyOptions {
  /** Rounds; each round times one event of every case, in alternating order. @default 40 */
  readonly rounds: number;
  /** Rounds run first and thrown away (JIT warm-up, first-use paths). @default 3 */
  readonly warmupRounds: number;
}

/** A group of event latencies measured side by side, each against an absolute bound. */
export interface LatencyComparison {
  readonly kind: 'latency';
  /** Kebab-case, matched by the command-line filter, e.g. `cancel-latency-cooperative`. */
  readonly name: string;
  /** One sentence: what is measured and why. */
  readonly summary: string;
  readonly cases: readonly LatencyCase[];
  readonly targets?: readonly LatencyTarget[];
  readonly options?: Partial<LatencyOptions>;
  /** Starts what the cases need (a warmed-up pool). */
  readonly setUp?: () => void | Promise<void>;
  /** Stops everything the comparison started, so the process can exit by itself; runs even when `setUp` failed part-way. */
  readonly tearDown?: () => void | Promise<void>;
}

/*
 * Comparisons across processes, for cases that cannot share one: a setting that changes the whole
 * process for good once used (on Node 20, AsyncLocalStorage slows every promise of the process
 * from its first use on). Each child process measures a {@link Comparison} of its own as usual,
 * its cases interleaved, and the comparison puts the children's figures together.
 * A figure across processes can only be a ratio of medians taken seconds apart, so it is coarser
 * than a per-round ratio: the comparison's summary says which figures are which.
 */

/** Cases measured in child processes of their own, reported as one {@link Comparison}. */
export interface ProcessesComparison {
  readonly kind: 'processes';
  /** Kebab-case, matched by the command-line filter. */
  readonly name: string;
  /** Runs the child processes one after the other and returns their figures as one result. */
  readonly measure: (overrides: Partial<MeasureOptions>) => Promise<ComparisonResult>;
}
