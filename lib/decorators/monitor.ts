import { DefinitionError } from '../errors/definition-error';
import { monitorClasses } from '../monitor/class-registry';
import { liveMonitors } from '../monitor/live-monitors';
import { LocalMonitor } from '../monitor/local-monitor';
import { collectMonitorMethods, type MonitorPlan } from '../monitor/monitor-plan';
import { createReference } from '../monitor/reference';
import { passArguments } from '../shareability/boundary';
import { knownObjects } from '../shareability/known-objects';
import { shareableClasses } from '../shareability/shareable-classes';
import type { CheckedMonitorClass } from '../shareability/shareable-type';
import type { MonitorOptions } from '../types';
import { classLocation } from './class-location';
import { methodMarks } from './monitor-method';
import { applyDecorator } from './apply-decorator';
import type { ClassDecoratorPlan } from './decorator-plan';
import { checkDeclaredTypes } from './design-types';
import { nameRule } from './options';

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
  return applyDecorator(monitorDecorator, args);
} as MonitorDecorator;

const DECORATOR = '@Monitor';

const monitorDecorator: ClassDecoratorPlan<MonitorOptions> = {
  decorator: DECORATOR,
  target: 'class',
  fix: 'decorate a class',
  options: {
    name: nameRule,
    reentrant: { expected: "false or 'chain'", accepts: (value) => value === false || value === 'chain' },
  },
  define: defineMonitor,
};

/**
 * Learns the class once and returns the class that replaces it: constructing that one builds
 * the instance on this thread and hands back a reference to a new local monitor.
 */
function defineMonitor(original: Function, options: MonitorOptions): Function {
  if (shareableClasses().has(original)) {
    throw new DefinitionError('ERR_DECORATOR_MISUSE', DECORATOR, `the @shareable class ${original.name}`, 'a class is either a monitor (state on one thread) or a shareable value, not both');
  }
  const className = options.name ?? original.name;
  const methods = collectMonitorMethods(original.prototype as object, methodMarks());
  if (methods.size === 0) throw new DefinitionError('ERR_MONITOR_WITHOUT_METHODS', className);
  const location = classLocation(className);
  const plan: MonitorPlan = { className, location, methods, reentrant: options.reentrant ?? false, original };
  checkDeclaredTypes(plan);

  const constructorLabel = `${className} constructor`;
  const Base = original as new (...args: unknown[]) => object;
  const decorated = class extends Base {
    constructor(...args: unknown[]) {
      if (new.target === decorated) passArguments(constructorLabel, args);
      else if (!monitorClasses().has(new.target)) throw new DefinitionError('ERR_SUBCLASS_NOT_MONITOR', new.target.name, className);
      super(...args);
      // A decorated subclass is being built: its own constructor makes the reference.
      if (new.target !== decorated) return;
      knownObjects().addMonitorInstance(this);
      const monitor = new LocalMonitor(this, plan, liveMonitors().nextId());
      liveMonitors().remember(monitor);
      monitor.reference = createReference(monitor);
      return monitor.reference as this;
    }
  };
  Object.defineProperty(decorated, 'name', { value: original.name });
  plan.decorated = decorated;
  monitorClasses().register(plan);
  return decorated;
}
