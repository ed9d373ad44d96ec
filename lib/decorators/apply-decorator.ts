import { DefinitionError } from '../errors/definition-error';
import type { DecoratorPlan } from './decorator-plan';
import { applyLegacy } from './legacy';
import { validateOptions } from './options';
import { applyStandard, isStandardContext } from './standard';

/**
 * Applies a decorator, in whichever way it was written: bare or as a factory, under TC39 standard
 * decorators or legacy `experimentalDecorators`. The modes are told apart by the second argument:
 * a context object with a string `kind` in standard mode, a property key in legacy mode (or a lone
 * class). Anything else is a factory call, `@Monitor({ ... })` or `@Monitor()`, which returns the
 * decorator with its options checked once.
 *
 * @param factoryOptions - set when called through the factory, which may be applied only once
 */
export function applyDecorator<O extends object>(plan: DecoratorPlan<O>, args: readonly unknown[], factoryOptions?: O): unknown {
  const [value, context] = args;
  const options = factoryOptions ?? ({} as O);
  if (isStandardContext(context)) return applyStandard(plan, value, context, options);
  const legacy = applyLegacy(plan, args, options);
  if (legacy !== undefined) return legacy.result;
  if (factoryOptions !== undefined) {
    throw new DefinitionError('ERR_DECORATOR_MISUSE', plan.decorator, 'its own options', `write ${plan.decorator}(options) once, directly above the ${plan.target}`);
  }
  const given = validateOptions<O>(plan.decorator, value, plan.options);
  return (...decoratorArgs: unknown[]) => applyDecorator(plan, decoratorArgs, given);
}
