import { DefinitionError } from '../errors/definition-error';
import { ShareabilityError } from '../errors/shareability-error';
import { runtime } from '../runtime';
import { findViolation } from '../shareability/check';
import { freezeDeeply } from '../shareability/freeze';
import type { ShareableOptions } from '../types';
import type { ClassLocation } from '../threads/protocol';
import { classKeys, classLocation, findClass } from './class-location';
import { classifyDecoratorCall, describeMember, legacyMemberKind } from './decorator-kind';
import { nameRule, validateOptions } from './options';

type AnyClass = abstract new (...args: never[]) => object;

/** `@shareable` applied directly, in either decorator mode. */
export interface ShareableDecoratorFunction {
  /** TC39 standard decorators. */
  <C extends AnyClass>(target: C, context: ClassDecoratorContext<C>): C;
  /** Legacy `experimentalDecorators`. */
  <C extends AnyClass>(target: C): C;
}

/** The type of {@link shareable}: a class decorator, or a factory of one when given options. */
export interface ShareableDecorator extends ShareableDecoratorFunction {
  (options?: ShareableOptions): ShareableDecoratorFunction;
}

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
 * Marks an immutable value class (Point, Money): its instances are deeply frozen when their
 * constructor returns, their fields must be shareable (a field that is not, such as a Map, makes
 * the constructor throw a {@link ShareabilityError}), and they may be passed between threads.
 *
 * @example
 * ```ts
 * @shareable
 * class Money {
 *   constructor(readonly cents: bigint, readonly currency: string) {}
 *   plus(other: Money): Money { return new Money(this.cents + other.cents, this.currency); }
 * }
 * await wallet.deposit(new Money(500n, 'EUR'));
 * ```
 */
export const shareable = function shareable(...args: unknown[]): unknown {
  return applyShareable(args, undefined);
} as ShareableDecorator;

const DECORATOR = '@shareable';
const FIX = 'decorate a class whose instances are values';

function applyShareable(args: readonly unknown[], factoryOptions: ShareableOptions | undefined): unknown {
  const call = classifyDecoratorCall(args);
  switch (call.mode) {
    case 'standard':
      if (call.context.kind !== 'class') {
        throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, describeMember(call.context.kind, call.context.name), FIX);
      }
      return defineShareable(call.value as Function, factoryOptions ?? {});
    case 'legacy-class':
      return defineShareable(call.target, factoryOptions ?? {});
    case 'legacy-member':
      throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, describeMember(legacyMemberKind(call.descriptor), call.key), FIX);
    case 'factory': {
      if (factoryOptions !== undefined) throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, 'its own options', 'write @shareable(options) once, directly above the class');
      const options = validateOptions<ShareableOptions>(DECORATOR, call.options, { name: nameRule });
      return (...decoratorArgs: unknown[]) => applyShareable(decoratorArgs, options);
    }
  }
}

function defineShareable(original: Function, options: ShareableOptions): Function {
  if (runtime.monitorPlans.has(original)) {
    throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, `the @Monitor class ${original.name}`, 'a class is either a monitor (state on one thread) or a shareable value, not both');
  }
  const className = options.name ?? original.name;
  const Base = original as new (...args: unknown[]) => object;
  const decorated = class extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      // Only the most derived class freezes, so a @shareable subclass can still set its fields.
      if (new.target === decorated) sealInstance(this, plan);
    }
  };
  Object.defineProperty(decorated, 'name', { value: original.name });
  const location = classLocation(className);
  const plan: ShareablePlan = { className, location, original, decorated };
  runtime.shareablePlans.set(original, plan);
  runtime.shareablePlans.set(decorated, plan);
  for (const key of classKeys(location)) runtime.shareableClassesByKey.set(key, plan);
  return decorated;
}

/**
 * Finds a `@shareable` class sent from another thread, loading its module here if this thread
 * has not yet.
 */
export function findShareableClass(location: ClassLocation): ShareablePlan {
  return findClass(location, runtime.shareableClassesByKey, '@shareable');
}

/** Freezes a new instance all the way down and proves it shareable, once for its whole life. */
function sealInstance(instance: object, plan: ShareablePlan): void {
  const seen = new Set<object>([instance]);
  for (const key of Reflect.ownKeys(instance)) {
    const descriptor = Object.getOwnPropertyDescriptor(instance, key);
    if (descriptor !== undefined && 'value' in descriptor) freezeDeeply(descriptor.value, seen);
  }
  Object.freeze(instance);
  const found = findViolation(instance, false);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', `new ${plan.className}(): field`, found.path, found.what, found.fix);
}
