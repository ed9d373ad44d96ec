import { DefinitionError } from '../errors/definition-error';
import type { OptionRules } from './options';

/**
 * What one decorator does, said once for both decorator modes: an adapter per mode (standard.ts
 * for TC39 decorators, legacy.ts for `experimentalDecorators`) checks what the decorator was put
 * on, in that mode's terms, and calls the plan; apply-decorator.ts tells the modes apart.
 */
export type DecoratorPlan<O extends object> = ClassDecoratorPlan<O> | MethodDecoratorPlan<O>;

interface CommonPlan {
  /** The decorator as users write it, e.g. `'@Monitor'`: messages name it. */
  readonly decorator: string;
  /** What a misuse message tells the user to decorate instead. */
  readonly fix: string;
  /** The options its factory takes, checked once, when the factory is called. */
  readonly options: OptionRules;
}

/** A decorator of classes. */
export interface ClassDecoratorPlan<O extends object> extends CommonPlan {
  readonly target: 'class';
  /** Learns the class once and returns the class that replaces it. */
  define(original: Function, options: O): Function;
}

/** A decorator of public instance methods with a string name; anything else is refused. */
export interface MethodDecoratorPlan<O extends object> extends CommonPlan {
  readonly target: 'method';
  /** Learns the method once: what replaces it, and what to run on each new instance. */
  define(method: Function, key: string, options: O): MethodDefinition;
}

export interface MethodDefinition {
  /** What replaces the method on the prototype. */
  readonly replacement: Function;
  /**
   * Runs on each new instance during its construction where the mode has a per-instance hook
   * (TC39 `addInitializer`); legacy mode has none, so nothing may depend on it.
   */
  readonly initialize?: (instance: unknown) => void;
}

/** The error for a decorator put on what it cannot decorate, described as `describeMember` does. */
export function misuse(plan: CommonPlan, target: string): DefinitionError {
  return new DefinitionError('ERR_DECORATOR_MISUSE', plan.decorator, target, plan.fix);
}

/** How error messages name what a decorator was put on, e.g. `the getter total`. */
export function describeMember(kind: string, name: string | symbol | undefined, isStatic = false): string {
  const label = typeof name === 'symbol' ? `[${String(name)}]` : name ?? '(anonymous)';
  if (kind === 'class') return `class ${label}`;
  return `the ${isStatic ? 'static ' : ''}${kind} ${label}`;
}
