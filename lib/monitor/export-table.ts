import { slot } from '../runtime';
import type { LocalMonitor } from './local-monitor';

/**
 * The monitors of this thread whose references went to other threads, by id: the calls that
 * arrive by message find their monitor here. A monitor is exported by the first reference that
 * leaves (monitor/exported-monitors.ts) and leaves the table when it closes, or when no other
 * thread can reach it any more.
 *
 * Release is counted by markers, never by threads: every marker that leaves (each encode) adds
 * one, and every marker that was revived and then let go subtracts one (a holder thread's
 * `Release` says how many of the markers it revived its dropped reference stood for; a marker
 * that comes back here subtracts its own one at once). A marker in flight was counted when it
 * left and is subtracted only after the thread that revives it lets it go, so no release can
 * overtake a marker still on its way: the export stays while the count is above zero. Markers
 * that never arrive (a message lost with its thread) keep the export: release errs on the side
 * of keeping, never of dropping.
 */
export class ExportTable {
  readonly #byId = new Map<number, { readonly monitor: LocalMonitor; markers: number }>();

  /** Counts a marker leaving for `monitor`, exporting it; true when it was not exported yet. */
  add(monitor: LocalMonitor): boolean {
    const entry = this.#byId.get(monitor.id);
    if (entry !== undefined) {
      entry.markers++;
      return false;
    }
    this.#byId.set(monitor.id, { monitor, markers: 1 });
    return true;
  }

  /**
   * Counts markers going on (negative `markers`: a holder passed them to another thread) or
   * coming back (positive: let go). True when this released the export: nobody else holds it.
   */
  release(id: number, markers: number): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    entry.markers -= markers;
    if (entry.markers > 0) return false;
    this.#byId.delete(id);
    return true;
  }

  /** Takes a closed monitor out of reach of other threads. */
  remove(id: number): void {
    this.#byId.delete(id);
  }

  find(id: number): LocalMonitor | undefined {
    return this.#byId.get(id)?.monitor;
  }

  /** How many markers of an exported monitor are out (in flight or held); undefined when it is not exported. */
  markersOut(id: number): number | undefined {
    return this.#byId.get(id)?.markers;
  }

  /** How many monitors are exported. */
  get size(): number {
    return this.#byId.size;
  }
}

/** This thread's exported monitors. */
export const exportTable = slot('exported monitors', () => new ExportTable());
