import { slot } from '../runtime';
import type { LocalMonitor } from './local-monitor';

/**
 * The monitors made on this thread: their ids, unique in the whole process, and the ones still
 * alive, for `dumpMonitors()` and for taking back the calls of a thread that ended. Monitors are
 * held weakly: one nobody references any more leaves by itself.
 */
export class LiveMonitors {
  /**
   * The process's monitor counter, in memory every thread shares (a worker is given it when it
   * starts), so that `Counter#3` names one monitor in the whole process.
   */
  #ids = new Int32Array(new SharedArrayBuffer(4));
  readonly #alive = new Set<WeakRef<LocalMonitor>>();
  readonly #forget = new FinalizationRegistry<WeakRef<LocalMonitor>>((ref) => this.#alive.delete(ref));

  /** The id of a new monitor, unique in the process. */
  nextId(): number {
    return Atomics.add(this.#ids, 0, 1) + 1;
  }

  /** The shared counter, for the workers this thread starts. */
  get ids(): SharedArrayBuffer {
    return this.#ids.buffer as SharedArrayBuffer;
  }

  /** Counts with the counter a worker was given when it started. */
  shareIds(ids: SharedArrayBuffer): void {
    this.#ids = new Int32Array(ids);
  }

  remember(monitor: LocalMonitor): void {
    const ref = new WeakRef(monitor);
    this.#alive.add(ref);
    this.#forget.register(monitor, ref);
  }

  /** Every monitor of this thread still alive, oldest first. */
  *[Symbol.iterator](): Iterator<LocalMonitor> {
    for (const ref of this.#alive) {
      const monitor = ref.deref();
      if (monitor !== undefined) yield monitor;
    }
  }
}

/** This thread's monitors. */
export const liveMonitors = slot('live monitors', () => new LiveMonitors());
