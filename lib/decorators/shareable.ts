import { DefinitionError } from '../errors/definition-error';
import { monitorClasses } from '../monitor/class-registry';
import { ShareabilityError } from '../errors/shareability-error';
import { findViolation, findViolationIfFrozen } from '../shareability/check';
import { freezeDeeply } from '../shareability/freeze';
import { shareableClasses, type ShareablePlan } from '../shareability/shareable-classes';
import { verifiedValues } from '../shareability/verified-values';
import type { ShareableOptions } from '../types';
import { codecs } from '../threads/codec-registry';
import type { ClassLocation } from '../threads/protocol';
import { classKeys, classLocation, findClass } from './class-location';
import { applyDecorator } from './apply-decorator';
import type { ClassDecoratorPlan } from './decorator-plan';
import { nameRule } from './options';

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
  return applyDecorator(shareableDecorator, args);
} as ShareableDecorator;

const DECORATOR = '@shareable';

const shareableDecorator: ClassDecoratorPlan<ShareableOptions> = {
  decorator: DECORATOR,
  target: 'class',
  fix: 'decorate a class whose instances are values',
  options: { name: nameRule },
  define: defineShareable,
};

function defineShareable(original: Function, options: ShareableOptions): Function {
  if (monitorClasses().has(original)) {
    throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, `the @Monitor class ${original.name}`, 'a class is either a monitor (state on one thread) or a shareable value, not both');
  }
  const privateMember = instancePrivateMember(original);
  if (privateMember !== undefined) {
    throw new DefinitionError(
      'ERR_DECORATOR_MISUSE',
      DECORATOR,
      `the class ${original.name}, which declares the private instance member ${privateMember}`,
      'an instance is made again on another thread from its own fields without running its constructor, so private members would be missing there; use a readonly field instead (the instance is frozen)',
    );
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
  shareableClasses().register(plan, classKeys(location));
  return decorated;
}

/** A `#name` where a class member is declared (not used as `this.#name`), with what stands before it on its line. */
const PRIVATE_DECLARATION = /(^|[{};\n])([ \t]*(?:(?:static|async|get|set|accessor)[ \t]+)*)(#[A-Za-z_$][\w$]*)/g;

/**
 * The first private instance member (`#field`, `#method()`, `get #x()`) declared by `Class` or a
 * class it extends, read from their source: static private members belong to the class and are fine.
 */
function instancePrivateMember(Class: Function): string | undefined {
  for (let current: unknown = Class; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    const source = Function.prototype.toString.call(current);
    for (const match of source.matchAll(PRIVATE_DECLARATION)) {
      if (!/(^|\s)static\s/.test(` ${match[2] ?? ''}`)) return match[3];
    }
  }
  return undefined;
}

/**
 * Finds a `@shareable` class sent from another thread, loading its module here if this thread
 * has not yet.
 */
export function findShareableClass(location: ClassLocation): ShareablePlan {
  return findClass(location, shareableClasses().byLocation, '@shareable');
}

/**
 * Freezes a new instance all the way down and proves it shareable, once for its whole life. Check
 * first, then freeze: an instance refused for one field leaves the objects the caller gave it
 * as they were.
 */
function sealInstance(instance: object, plan: ShareablePlan): void {
  const refused = findViolationIfFrozen(instance, instance);
  if (refused !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', `new ${plan.className}(): field`, refused.path, refused.what, refused.fix);
  const seen = new Set<object>([instance]);
  for (const key of Reflect.ownKeys(instance)) {
    const descriptor = Object.getOwnPropertyDescriptor(instance, key);
    if (descriptor !== undefined && 'value' in descriptor) freezeDeeply(descriptor.value, seen);
  }
  Object.freeze(instance);
  const found = findViolation(instance, false);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', `new ${plan.className}(): field`, found.path, found.what, found.fix);
}

// An instance crosses threads as its class's location and its own fields; it is made again there
// without running the constructor.
codecs().register({
  kind: 'shareable',
  encode(value, nested) {
    const plan = shareableClasses().planOf((Object.getPrototypeOf(value) as { constructor: Function }).constructor);
    if (plan === undefined) return undefined;
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(value)) fields[key] = (value as Record<string, unknown>)[key];
    // Encoded with the value it is in, so parts the instance shares with the rest arrive shared.
    return { kind: 'shareable', location: plan.location, fields: nested.encode(fields) };
  },
  decode: (marker, nested) => reviveShareable(marker.location, nested.decode(marker.fields) as Record<string, unknown>),
});

function reviveShareable(location: ClassLocation, fields: Record<string, unknown>): object {
  const plan = findShareableClass(location);
  const instance = Object.create(plan.decorated.prototype as object) as object;
  for (const key of Object.keys(fields)) {
    Object.defineProperty(instance, key, { value: fields[key], enumerable: true, writable: false, configurable: false });
  }
  Object.freeze(instance);
  // It stands where its fields' object stood, so it nests as deeply as that did.
  const verified = verifiedValues();
  verified.add(instance, verified.height(fields));
  return instance;
}
