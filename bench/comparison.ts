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
  /** Stops everything {@link setUp} started, so the process can exit by itself. */
  readonly tearDown?: () => void | Promise<void>;
}
