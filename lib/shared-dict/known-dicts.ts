import { slot, thisThread } from '../runtime';

/**
 * The dictionaries known on this thread, by id, so that a dictionary that arrives twice is one
 * handle here, with one cache of decoded values. Handles are held weakly: an id is forgotten once
 * its handle is collected.
 */
export class KnownDicts<D extends object = object> {
  readonly #byId = new Map<string, WeakRef<D>>();
  readonly #forget = new FinalizationRegistry<string>((id) => {
    if (this.#byId.get(id)?.deref() === undefined) this.#byId.delete(id);
  });
  #nextNumber = 1;

  /** The id of a new dictionary made on this thread: `thread:number`, the same on every thread. */
  newId(): string {
    return `${thisThread().id}:${this.#nextNumber++}`;
  }

  remember(id: string, dict: D): void {
    this.#byId.set(id, new WeakRef(dict));
    this.#forget.register(dict, id);
  }

  find(id: string): D | undefined {
    return this.#byId.get(id)?.deref();
  }
}

export const knownDicts = slot('shared dicts', () => new KnownDicts());
