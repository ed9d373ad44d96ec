import os from 'node:os';
import type { MeasureOptions } from './comparison';
import type { ComparisonResult, LatencyResult } from './measure';

/**
 * How results are shown: a table for people, and one JSON document with every figure for tools.
 */

/** Everything one `npm run bench` measured, with what it ran on. */
export interface BenchReport {
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly startedAt: string;
  readonly overrides: Partial<MeasureOptions>;
  /** Ratio comparisons, and latency comparisons (those carry `kind: 'latency'`). */
  readonly comparisons: readonly (ComparisonResult | LatencyResult)[];
  readonly targetsMet: number;
  readonly targetsTotal: number;
}

export function createReport(startedAt: Date, overrides: Partial<MeasureOptions>, comparisons: readonly (ComparisonResult | LatencyResult)[]): BenchReport {
  const targets = comparisons.flatMap((comparison): readonly { readonly met: boolean }[] => comparison.targets);
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    startedAt: startedAt.toISOString(),
    overrides,
    comparisons,
    targetsMet: targets.filter((target) => target.met).length,
    targetsTotal: targets.length,
  };
}

const HEADER = ['case', 'time/op', 'ops/s', 'vs anchor', 'spread', 'target', 'met'];
/** Columns aligned to the right (numbers). */
const NUMERIC = new Set([1, 2, 3, 4]);

/** The table of one comparison: a row per case, a line per target. */
export function formatComparison(result: ComparisonResult): string {
  const rows: string[][] = [HEADER];
  for (const measured of result.cases) {
    const isAnchor = measured.name === result.anchor;
    const { p25, p75, median } = measured.ratioToAnchor;
    const cells = [
      measured.name,
      formatDuration(measured.nsPerOp.median),
      formatCount(measured.opsPerSecond),
      isAnchor ? 'anchor' : formatRatio(median),
      isAnchor ? '' : `±${Math.round(((p75 - p25) / 2 / median) * 100)}%`,
    ];
    const targets = result.targets.filter((target) => target.case === measured.name);
    if (targets.length === 0) rows.push([...cells, '', '']);
    targets.forEach((target, index) => {
      const verdict = `${target.met ? 'yes' : 'NO'} (${target.checked ?? formatRatio(target.ratio)})`;
      rows.push([...(index === 0 ? cells : cells.map(() => '')), target.label, verdict]);
    });
  }
  const { rounds, sampleMs } = result.options;
  return [`${result.name}: ${result.summary}`, `  (${rounds} interleaved rounds of ~${sampleMs} ms samples; medians; spread = half the interquartile range of the per-round ratio)`, ...alignColumns(rows)].join('\n');
}

export function formatSummary(report: BenchReport): string {
  const missed = report.comparisons.flatMap((comparison) => comparison.targets.filter((target) => !target.met).map((target) => `${comparison.name}: ${target.case}: ${target.label}`));
  const lines = [`targets met: ${report.targetsMet}/${report.targetsTotal} (node ${report.node}, ${report.cpus} x ${report.cpuModel})`];
  for (const line of missed) lines.push(`  missed: ${line}`);
  return lines.join('\n');
}

function alignColumns(rows: readonly string[][]): string[] {
  const widths = HEADER.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => `  ${row.map((cell, column) => (NUMERIC.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd()}`);
}

function formatDuration(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

function formatCount(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(1);
}

/** `3.46x`, or `1/583,000x` for the tiny ratios of a cache hit to a full walk. */
function formatRatio(ratio: number): string {
  return ratio >= 0.1 ? `${ratio.toFixed(2)}x` : `1/${Number((1 / ratio).toPrecision(3)).toLocaleString('en')}x`;
}

/* Latency comparisons: a row per case with the spread of its events, a line per target. */

const LATENCY_HEADER = ['case', 'median', 'p90', 'min', 'max', 'target', 'met'];
const LATENCY_NUMERIC = new Set([1, 2, 3, 4]);

/** The table of one latency comparison. */
export function formatLatency(result: LatencyResult): string {
  const rows: string[][] = [LATENCY_HEADER];
  for (const measured of result.cases) {
    const cells = [measured.name, formatMs(measured.medianMs), formatMs(measured.p90Ms), formatMs(measured.minMs), formatMs(measured.maxMs)];
    const targets = result.targets.filter((target) => target.case === measured.name);
    if (targets.length === 0) rows.push([...cells, '(context)', '']);
    targets.forEach((target, index) => {
      const figure = target.allowanceMs === 0 ? formatMs(target.figureMs) : `${target.statistic} - ${formatMs(target.allowanceMs)} = ${formatMs(target.figureMs)}`;
      rows.push([...(index === 0 ? cells : cells.map(() => '')), target.label, `${target.met ? 'yes' : 'NO'} (${figure})`]);
    });
  }
  const { rounds, warmupRounds } = result.options;
  const widths = LATENCY_HEADER.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => `  ${row.map((cell, column) => (LATENCY_NUMERIC.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd()}`);
  return [`${result.name}: ${result.summary}`, `  (latency: ${rounds} interleaved rounds of one event per case, after ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'}; time from the trigger until the event settled)`, ...lines].join('\n');
}

/** Either kind of comparison's table. */
export function formatResult(result: ComparisonResult | LatencyResult): string {
  return 'kind' in result ? formatLatency(result) : formatComparison(result);
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.abs(ms) < 1) return `${(ms * 1000).toFixed(0)} µs`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}
