import { slot } from './runtime';
import type { ObservableBridge } from './types';

/**
 * The rxjs adapter, for the features that return Observables, loaded on first use. The start-up
 * files say how to load it (lib/index.ts, threads/worker-entry.ts), so that the core calls it
 * without importing it; `feature` names what needed it, should they not have.
 */
export function observables(feature: string): ObservableBridge {
  const load = adapter().load;
  if (load === undefined) {
    throw new Error(`safethread: ${feature} needs safethread's rxjs adapter, which its entry point registers; import 'safethread' itself, not one of its internal modules`);
  }
  return load();
}

/**
 * Says how to load the rxjs adapter (rxjs/observable-bridge.ts), and rxjs with it; the first
 * start-up file to run on a thread says it, and nothing loads until an Observable is made.
 */
export function installObservables(load: () => ObservableBridge): void {
  adapter().install(load);
}

/** How this thread loads the rxjs adapter: given by its start-up. */
class AdapterLoader {
  #load: (() => ObservableBridge) | undefined = undefined;

  get load(): (() => ObservableBridge) | undefined {
    return this.#load;
  }

  install(load: () => ObservableBridge): void {
    this.#load ??= load;
  }
}

const adapter = slot('rxjs adapter', () => new AdapterLoader());
