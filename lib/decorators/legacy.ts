import { DefinitionError } from '../errors/definition-error';
import { describeMember, legacyMemberKind } from './decorator-kind';

/**
 * The adapters for legacy `experimentalDecorators`. Each turns the legacy call shape into the
 * one the shared implementation takes, and nothing more: when legacy decorators are retired,
 * this file goes and nothing else changes.
 */

/** The implementation of a method decorator: gets the user's method, returns what replaces it. */
export type MethodDecoration = (method: Function, key: string) => Function;

/**
 * Applies a method decoration to a legacy `(prototype, key, descriptor)` call, refusing what is
 * not an instance method with a public string name.
 */
export function decorateLegacyMethod(
  decorator: string,
  target: object,
  key: string | symbol,
  descriptor: PropertyDescriptor | undefined,
  decorate: MethodDecoration,
): PropertyDescriptor {
  const isStatic = typeof target === 'function';
  const className = (isStatic ? (target as Function).name : (target.constructor as Function | undefined)?.name) ?? '(anonymous)';
  const kind = legacyMemberKind(descriptor);
  if (kind !== 'method' || isStatic || typeof key === 'symbol' || descriptor === undefined) {
    throw new DefinitionError(
      'ERR_DECORATOR_MISUSE',
      decorator,
      `${describeMember(kind, key, isStatic)} of ${className}`,
      'decorate a public async instance method with a string name',
    );
  }
  descriptor.value = decorate(descriptor.value as Function, key);
  return descriptor;
}
