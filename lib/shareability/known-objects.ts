import { slot } from '../runtime';

/**
 * Objects the shareability rules judge by who made them, not by their shape: objects that protect
 * themselves (monitor references, tokens, channels) cross threads as they are, and the instances
 * behind monitors never do. The rules sit below the modules that make these objects, so each of
 * those modules says so here when it makes one; the rules only read.
 */
export class KnownObjects {
  readonly #selfProtecting = new WeakSet<object>();
  /** Classes whose instances all protect themselves, so a parameter declared as one is fine. */
  readonly #selfProtectingClasses = new WeakSet<Function>();
  /** The real instances behind local monitors: they never leave their monitor. */
  readonly #monitorInstances = new WeakSet<object>();

  addSelfProtecting(object: object): void {
    this.#selfProtecting.add(object);
  }

  isSelfProtecting(object: object): boolean {
    return this.#selfProtecting.has(object);
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
