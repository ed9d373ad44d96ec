import { DefinitionError } from '../errors/definition-error';
import { LocalMonitor } from '../monitor/local-monitor';
import { collectMonitorMethods, type MonitorPlan } from '../monitor/monitor-plan';
import { createReference } from '../monitor/reference';
import { runtime } from '../runtime';
import { passArguments } from '../shareability/boundary';
import type { CheckedMonitorClass } from '../shareability/shareable-type';
import type { MonitorOptions } from '../types';
import type { ClassLocation } from '../threads/protocol';
import { classKeys, classLocation, findClass } from './class-location';
import { classifyDecoratorCall, describeMember, legacyMemberKind } from './decorator-kind';
import { checkDeclaredTypes } from './design-types';
import { nameRule, validateOptions } from './options';

type AnyClass = abstract new (...args: never[]) => object;

/** `@Monitor` applied directly, in either decorator mode. */
export interface MonitorDecoratorFunction {
  /** TC39 standard decorators. */
  <C extends AnyClass>(target: C & CheckedMonitorClass<C>, context: ClassDecoratorContext<C>): C;
  /** Legacy `experimentalDecorators`. */
  <C extends AnyClass>(target: C & CheckedMonitorClass<C>): C;
}

/** The type of {@link Monitor}: a class decorator, or a factory of one when given options. */
export interface MonitorDecorator extends MonitorDecoratorFunction {
  (options?: MonitorOptions): MonitorDecoratorFunction;
}

/**
 * Makes a class a monitor: an object whose state belongs to one thread and whose
 * `@monitorMethod` methods run one call at a time on that thread, whoever calls them.
 *
 * `new Counter(...args)` checks the arguments for shareability, constructs the instance and
 * returns a **monitor reference**, not the instance: only monitor methods are reachable through
 * it (anything else throws {@link MonitorAccessError}), and it may be passed to other monitors
 * and threads. Inside a method `this` is the real instance, and `this.other()` runs directly.
 *
 * @example
 * ```ts
 * @Monitor
 * class Counter {
 *   #count = 0;
 *   @monitorMethod async increment(): Promise<number> { return ++this.#count; }
 * }
 * const counter = new Counter();
 * await Promise.all([counter.increment(), counter.increment()]); // never a lost update
 * ```
 */
export const Monitor = function Monitor(...args: unknown[]): unknown {
  return applyMonitor(args, undefined);
} as MonitorDecorator;

const DECORATOR = '@Monitor';
const FIX = 'decorate a class';

function applyMonitor(args: readonly unknown[], factoryOptions: MonitorOptions | undefined): unknown {
  const call = classifyDecoratorCall(args);
  switch (call.mode) {
    case 'standard':
      if (call.context.kind !== 'class') {
        throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, describeMember(call.context.kind, call.context.name), FIX);
      }
      return defineMonitor(call.value as Function, factoryOptions ?? {});
    case 'legacy-class':
      return defineMonitor(call.target, factoryOptions ?? {});
    case 'legacy-member':
      throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, describeMember(legacyMemberKind(call.descriptor), call.key), FIX);
    case 'factory': {
      if (factoryOptions !== undefined) throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, 'its own options', 'write @Monitor(options) once, directly above the class');
      const options = validateOptions<MonitorOptions>(DECORATOR, call.options, {
        name: nameRule,
        reentrant: { expected: "false or 'chain'", accepts: (value) => value === false || value === 'chain' },
      });
      return (...decoratorArgs: unknown[]) => applyMonitor(decoratorArgs, options);
    }
  }
}

/**
 * Learns the class once and returns the class that replaces it: constructing that one builds
 * the instance on this thread and hands back a reference to a new local monitor.
 */
function defineMonitor(original: Function, options: MonitorOptions): Function {
  if (runtime.shareablePlans.has(original)) {
    throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, `the @shareable class ${original.name}`, 'a class is either a monitor (state on one thread) or a shareable value, not both');
  }
  const className = options.name ?? original.name;
  const methods = collectMonitorMethods(original.prototype as object, runtime.methodMarks);
  if (methods.size === 0) throw new DefinitionError('ERR_MONITOR_WITHOUT_METHODS', className);
  const location = classLocation(className);
  const plan: MonitorPlan = { className, location, methods, reentrant: options.reentrant ?? false, original };
  checkDeclaredTypes(plan);

  const constructorLabel = `${className} constructor`;
  const Base = original as new (...args: unknown[]) => object;
  const decorated = class extends Base {
    constructor(...args: unknown[]) {
      if (new.target === decorated) passArguments(constructorLabel, args);
      else if (!runtime.monitorPlans.has(new.target)) throw new DefinitionError('ERR_SUBCLASS_NOT_MONITOR', new.target.name, className);
      super(...args);
      // A decorated subclass is being built: its own constructor makes the reference.
      if (new.target !== decorated) return;
      runtime.monitorInstances.add(this);
      const monitor = new LocalMonitor(this, plan, runtime.nextMonitorId());
      runtime.rememberMonitor(monitor);
      monitor.reference = createReference(monitor);
      return monitor.reference as this;
    }
  };
  Object.defineProperty(decorated, 'name', { value: original.name });
  plan.decorated = decorated;
  runtime.monitorPlans.set(original, plan);
  runtime.monitorPlans.set(decorated, plan);
  for (const key of classKeys(location)) runtime.monitorClassesByKey.set(key, plan);
  return decorated;
}

/** Finds a `@Monitor` class named by another thread, loading its module here if this thread has not yet. */
export function findMonitorClass(location: ClassLocation): MonitorPlan {
  return findClass(location, runtime.monitorClassesByKey, '@Monitor');
}
