import { slot } from '../runtime';
import type { LocalMonitor } from './local-monitor';

/**
 * The monitors of this thread whose references went to other threads, by id: the calls that
 * arrive by message find their monitor here. A monitor is exported by the first reference that
 * leaves (monitor/exported-monitors.ts) and leaves the table when it closes, so that other
 * threads reach it no more.
 */
export class ExportTable {
  readonly #byId = new Map<number, LocalMonitor>();

  /** Exports a monitor; true when it was not exported yet. */
  add(monitor: LocalMonitor): boolean {
    if (this.#byId.has(monitor.id)) return false;
    this.#byId.set(monitor.id, monitor);
    return true;
  }

  /** Takes a closed monitor out of reach of other threads. */
  remove(id: number): void {
    this.#byId.delete(id);
  }

  find(id: number): LocalMonitor | undefined {
    return this.#byId.get(id);
  }

  /** How many monitors are exported. */
  get size(): number {
    return this.#byId.size;
  }
}

/** This thread's exported monitors. */
export const exportTable = slot('exported monitors', () => new ExportTable());
