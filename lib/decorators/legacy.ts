import { describeMember, misuse, type DecoratorPlan } from './decorator-plan';

/**
 * The adapter for legacy `experimentalDecorators`, and the only code that knows them: it turns
 * the legacy call shapes into calls of the plan, and nothing more. When legacy decorators are
 * retired, this file and its one call in apply-decorator.ts go, and nothing else changes.
 */

/**
 * Applies `plan` to a legacy call: `(constructor)` for a class, `(prototype or constructor, key,
 * descriptor?)` for a member. Returns undefined when `args` are neither (a factory call).
 */
export function applyLegacy<O extends object>(plan: DecoratorPlan<O>, args: readonly unknown[], options: O): { readonly result: unknown } | undefined {
  const [first, second, third] = args;
  if (args.length === 1 && typeof first === 'function') {
    if (plan.target === 'class') return { result: plan.define(first, options) };
    throw misuse(plan, describeMember('class', first.name));
  }
  if (args.length < 2 || (typeof second !== 'string' && typeof second !== 'symbol')) return undefined;
  const descriptor = third as PropertyDescriptor | undefined;
  if (plan.target === 'class') throw misuse(plan, describeMember(memberKind(descriptor), second));
  const target = first as object;
  const isStatic = typeof target === 'function';
  const className = (isStatic ? (target as Function).name : (target.constructor as Function | undefined)?.name) ?? '(anonymous)';
  const kind = memberKind(descriptor);
  // What is not a public instance method with a string name.
  if (kind !== 'method' || isStatic || typeof second === 'symbol' || descriptor === undefined) {
    throw misuse(plan, `${describeMember(kind, second, isStatic)} of ${className}`);
  }
  // Legacy mode has no per-instance hook: the plan's `initialize` is left out.
  descriptor.value = plan.define(descriptor.value as Function, second, options).replacement;
  return { result: descriptor };
}

/** What a legacy member decorator was put on, told from its descriptor. */
function memberKind(descriptor: PropertyDescriptor | undefined): 'field' | 'getter' | 'setter' | 'method' {
  if (descriptor === undefined) return 'field';
  if (descriptor.get !== undefined) return 'getter';
  if (descriptor.set !== undefined) return 'setter';
  return typeof descriptor.value === 'function' ? 'method' : 'field';
}
