import { slot } from '../runtime';
import type { ClassLocation } from '../threads/protocol';

/** What `@shareable` records about a value class. */
export interface ShareablePlan {
  readonly className: string;
  /** Where another thread finds the class: its module and its key there. */
  readonly location: ClassLocation;
  readonly original: Function;
  /** The class that replaces the original; its instances are the shareable ones. */
  readonly decorated: Function;
}

/**
 * The `@shareable` classes of this thread, registered by the decorator (decorators/shareable.ts):
 * by class (the user's, and the decorated one that replaces it), which the shareability rules
 * read to let their instances cross, and by where they are defined, for values that arrive from
 * another thread. They live here, below the decorator, because the rules read them.
 */
export class ShareableClasses {
  readonly #byClass = new WeakMap<Function, ShareablePlan>();
  readonly #byLocation = new Map<string, ShareablePlan>();

  /** @param keys - the keys its location is found by (decorators/class-location.ts's `classKeys`) */
  register(plan: ShareablePlan, keys: readonly string[]): void {
    this.#byClass.set(plan.original, plan);
    this.#byClass.set(plan.decorated, plan);
    for (const key of keys) this.#byLocation.set(key, plan);
  }

  planOf(Class: Function): ShareablePlan | undefined {
    return this.#byClass.get(Class);
  }

  /** Whether `Class` is a `@shareable` class, the user's or the decorated one. */
  has(Class: Function): boolean {
    return this.#byClass.has(Class);
  }

  /** The classes by the keys of their locations, for finding one that another thread named. */
  get byLocation(): ReadonlyMap<string, ShareablePlan> {
    return this.#byLocation;
  }
}

/** This thread's `@shareable` classes. */
export const shareableClasses = slot('shareable classes', () => new ShareableClasses());
