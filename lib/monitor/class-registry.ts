import { classKeys, findClass } from '../decorators/class-location';
import { slot } from '../runtime';
import type { ClassLocation } from '../threads/protocol';
import type { MonitorPlan } from './monitor-plan';

/**
 * The `@Monitor` classes of this thread, registered by the decorator: by class (the user's, and
 * the decorated one that replaces it), and by where they are defined, for the threads that name
 * one (a remote reference's class, an actor's).
 */
export class MonitorClasses {
  readonly #byClass = new WeakMap<Function, MonitorPlan>();
  readonly #byLocation = new Map<string, MonitorPlan>();

  register(plan: MonitorPlan): void {
    const { original, decorated, location } = plan;
    this.#byClass.set(original, plan);
    if (decorated !== undefined) this.#byClass.set(decorated, plan);
    if (location !== undefined) for (const key of classKeys(location)) this.#byLocation.set(key, plan);
  }

  planOf(Class: Function): MonitorPlan | undefined {
    return this.#byClass.get(Class);
  }

  /** Whether `Class` is a `@Monitor` class, the user's or the decorated one. */
  has(Class: Function): boolean {
    return this.#byClass.has(Class);
  }

  /** Finds a class named by another thread, loading its module here if this thread has not yet. */
  find(location: ClassLocation): MonitorPlan {
    return findClass(location, this.#byLocation, '@Monitor');
  }
}

/** This thread's `@Monitor` classes. */
export const monitorClasses = slot('monitor classes', () => new MonitorClasses());

/** Finds a `@Monitor` class named by another thread, loading its module here if this thread has not yet. */
export function findMonitorClass(location: ClassLocation): MonitorPlan {
  return monitorClasses().find(location);
}
