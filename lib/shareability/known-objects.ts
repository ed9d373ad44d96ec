import { slot } from '../runtime';

/**
 * Objects the shareability rules judge by who made them, not by their shape: objects that protect
 * themselves (monitor references, tokens, channels) cross threads as they are, and the instances
 * behind monitors never do. The rules sit below the modules that make these objects, so each of
 * those modules says so here when it makes one; the rules only read.
 */
export class KnownObjects {
  readonly #selfProtecting = new WeakSet<object>();
  /**
   * Tests that tell the objects of a self-protecting kind by a mark only their class can make (a
   * private field): kinds made by the thousand, like tokens, so that none needs an entry here.
   */
  readonly #selfProtectingKinds: ((object: object) => boolean)[] = [];
  /** Classes whose instances all protect themselves, so a parameter declared as one is fine. */
  readonly #selfProtectingClasses = new WeakSet<Function>();
  /** The real instances behind local monitors: they never leave their monitor. */
  readonly #monitorInstances = new WeakSet<object>();

  addSelfProtecting(object: object): void {
    this.#selfProtecting.add(object);
  }

  /** Registers a kind by its test, which must not be fooled by a copy of the class's prototype or shape. */
  addSelfProtectingKind(isOfKind: (object: object) => boolean): void {
    this.#selfProtectingKinds.push(isOfKind);
  }

  isSelfProtecting(object: object): boolean {
    if (this.#selfProtecting.has(object)) return true;
    for (const isOfKind of this.#selfProtectingKinds) if (isOfKind(object)) return true;
    return false;
  }

  addSelfProtectingClass(Class: Function): void {
    this.#selfProtectingClasses.add(Class);
  }

  isSelfProtectingClass(Class: Function): boolean {
    return this.#selfProtectingClasses.has(Class);
  }

  addMonitorInstance(instance: object): void {
    this.#monitorInstances.add(instance);
  }

  isMonitorInstance(object: object): boolean {
    return this.#monitorInstances.has(object);
  }
}

/** This thread's known objects. */
export const knownObjects = slot('known objects', () => new KnownObjects());
