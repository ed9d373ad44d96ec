import { slot, thisThread } from '../runtime';
import { MessageKind } from '../threads/protocol';
import { transport } from '../threads/transport';
import type { LocalMonitor } from './local-monitor';

/**
 * The monitors of this thread whose references went to other threads, by id: the calls that
 * arrive by message find their monitor here. A monitor is exported by the first reference that
 * leaves (monitor/exported-monitors.ts) and leaves the table when it closes, or when no other
 * thread can reach it any more.
 *
 * Release is counted by markers, and each marker by who has it. Every marker that leaves (each
 * encode, or a holder's word that it passed one on) is in flight until the thread that revives it
 * says so (`revived`): from then on it counts for that holder, until the holder lets it go
 * (`released`, when its reference is collected) or ends (its thread is gone). A holder lets go of
 * no more than it said it holds, and passes nothing on unless it holds some: so no thread can
 * release, or pass on, another thread's markers. A marker that comes back here is out no more.
 *
 * Messages from one thread keep their order (through the main thread), so a holder's `revived`
 * arrives before its `released`, and a `passed` before the marker it passed can be revived: no
 * release can overtake a marker still on its way, and the export stays while any marker is in
 * flight or held. Markers that never arrive (lost with their thread) keep the export: release
 * errs on the side of keeping, never of dropping.
 */
export class ExportTable {
  readonly #byId = new Map<number, Entry>();
  /** Told when the table gets its first export (true) and when it has none any more (false). */
  readonly #hosting: (hosting: boolean) => void;

  constructor(hosting: (hosting: boolean) => void = () => undefined) {
    this.#hosting = hosting;
  }

  /** Counts a marker leaving for `monitor`, exporting it; true when it was not exported yet. */
  add(monitor: LocalMonitor): boolean {
    const entry = this.#byId.get(monitor.id);
    if (entry !== undefined) {
      entry.inFlight++;
      return false;
    }
    this.#byId.set(monitor.id, { monitor, inFlight: 1, held: new Map() });
    if (this.#byId.size === 1) this.#hosting(true);
    return true;
  }

  /** A marker of this thread's monitor came back here: it is out no more. True when this released the export. */
  cameHome(id: number): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    return this.#dropIfFree(id, entry);
  }

  /** `holder` revived `markers` markers in flight: they count for it now. */
  revived(id: number, holder: number, markers: number): void {
    const entry = this.#byId.get(id);
    if (entry === undefined || !(markers > 0)) return;
    // Never more than are in flight: a thread cannot take markers that are not on their way.
    const taken = Math.min(Math.floor(markers), entry.inFlight);
    if (taken === 0) return;
    entry.inFlight -= taken;
    entry.held.set(holder, (entry.held.get(holder) ?? 0) + taken);
  }

  /** `holder` passed `markers` new markers on to another thread; only a thread that holds the monitor can. */
  passed(id: number, holder: number, markers: number): void {
    const entry = this.#byId.get(id);
    if (entry === undefined || !(markers > 0) || !this.holds(id, holder)) return;
    entry.inFlight += Math.floor(markers);
  }

  /**
   * `holder` let go of `markers` markers (its reference was collected): at most those it holds.
   * True when this released the export: nobody else holds it, and none is on its way.
   */
  release(id: number, holder: number, markers: number): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined || !(markers > 0)) return false;
    const held = entry.held.get(holder) ?? 0;
    const left = held - Math.min(Math.floor(markers), held);
    if (left > 0) entry.held.set(holder, left);
    else entry.held.delete(holder);
    return this.#dropIfFree(id, entry);
  }

  /** Thread `holder` ended: every marker it held is let go for it. True when this released any export. */
  holderGone(holder: number): boolean {
    let released = false;
    for (const [id, entry] of [...this.#byId]) {
      if (!entry.held.delete(holder)) continue;
      if (this.#dropIfFree(id, entry)) released = true;
    }
    return released;
  }

  /** Whether thread `holder` holds a reference to the exported monitor `id` (it said it revived one and has not let it go). */
  holds(id: number, holder: number): boolean {
    return (this.#byId.get(id)?.held.get(holder) ?? 0) > 0;
  }

  /** Takes a closed monitor out of reach of other threads. */
  remove(id: number): void {
    if (this.#byId.delete(id) && this.#byId.size === 0) this.#hosting(false);
  }

  find(id: number): LocalMonitor | undefined {
    return this.#byId.get(id)?.monitor;
  }

  /** How many markers of an exported monitor are out (in flight or held); undefined when it is not exported. */
  markersOut(id: number): number | undefined {
    const entry = this.#byId.get(id);
    return entry === undefined ? undefined : entry.inFlight + [...entry.held.values()].reduce((sum, count) => sum + count, 0);
  }

  /** How many monitors are exported. */
  get size(): number {
    return this.#byId.size;
  }

  #dropIfFree(id: number, entry: Entry): boolean {
    if (entry.inFlight > 0 || entry.held.size > 0) return false;
    this.remove(id);
    return true;
  }
}

/** An exported monitor: its markers on their way, and those each holder thread revived and still holds. */
interface Entry {
  readonly monitor: LocalMonitor;
  inFlight: number;
  readonly held: Map<number, number>;
}

/**
 * This thread's exported monitors. A worker that exports any must stay while others may call
 * them: it tells the main thread when it starts (`Hosting`) and when it stops, however its last
 * export went (released, its holders gone, or closed here), so the pool may give it children again
 * or retire it.
 */
export const exportTable = slot(
  'exported monitors',
  () =>
    new ExportTable((hosting) => {
      if (thisThread().id !== 0) transport().send(0, { kind: hosting ? MessageKind.Hosting : MessageKind.HostingEnded });
    }),
);
