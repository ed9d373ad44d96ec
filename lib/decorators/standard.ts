import { describeMember, misuse, type DecoratorPlan } from './decorator-plan';

/**
 * The adapter for TC39 standard decorators, which receive `(value, context)`: it refuses what the
 * plan does not decorate, from the context, and hands the rest to the plan.
 */

/** Whether a decorator's second argument is a standard decorator's context: an object with a string `kind`. */
export function isStandardContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

export function applyStandard<O extends object>(plan: DecoratorPlan<O>, value: unknown, context: DecoratorContext, options: O): unknown {
  if (plan.target === 'class') {
    if (context.kind !== 'class') throw misuse(plan, describeMember(context.kind, context.name));
    return plan.define(value as Function, options);
  }
  const isMethod = context.kind === 'method';
  const member = context as ClassMemberDecoratorContext;
  if (!isMethod || member.static || member.private || typeof member.name === 'symbol') {
    throw misuse(plan, describeMember(context.kind, context.name, isMethod && member.static));
  }
  const { replacement, initialize } = plan.define(value as Function, member.name, options);
  if (initialize !== undefined) {
    member.addInitializer(function (this: unknown) {
      initialize(this);
    });
  }
  return replacement;
}
