/**
 * Tells the two decorator modes apart, and a bare decorator from a factory call.
 *
 * TC39 standard decorators receive `(value, context)` where `context` is an object with a
 * string `kind`. Legacy `experimentalDecorators` receive `(constructor)` for a class and
 * `(prototype or constructor, key, descriptor?)` for a member. Anything else is a factory
 * call: `@Monitor({ ... })` or `@Monitor()`.
 */
export type DecoratorCall =
  | { readonly mode: 'standard'; readonly value: unknown; readonly context: DecoratorContext }
  | { readonly mode: 'legacy-class'; readonly target: Function }
  | { readonly mode: 'legacy-member'; readonly target: object; readonly key: string | symbol; readonly descriptor: PropertyDescriptor | undefined }
  | { readonly mode: 'factory'; readonly options: unknown };

export function classifyDecoratorCall(args: readonly unknown[]): DecoratorCall {
  const [first, second, third] = args;
  if (isStandardContext(second)) return { mode: 'standard', value: first, context: second };
  if (args.length === 1 && typeof first === 'function') return { mode: 'legacy-class', target: first };
  if (args.length >= 2 && (typeof second === 'string' || typeof second === 'symbol')) {
    return { mode: 'legacy-member', target: first as object, key: second, descriptor: third as PropertyDescriptor | undefined };
  }
  return { mode: 'factory', options: first };
}

function isStandardContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

/** How error messages name what a decorator was put on, e.g. `the getter total`. */
export function describeMember(kind: string, name: string | symbol | undefined, isStatic = false): string {
  const label = typeof name === 'symbol' ? `[${String(name)}]` : name ?? '(anonymous)';
  if (kind === 'class') return `class ${label}`;
  return `the ${isStatic ? 'static ' : ''}${kind} ${label}`;
}

/** What a legacy member decorator was put on, told from its descriptor. */
export function legacyMemberKind(descriptor: PropertyDescriptor | undefined): 'field' | 'getter' | 'setter' | 'method' {
  if (descriptor === undefined) return 'field';
  if (descriptor.get !== undefined) return 'getter';
  if (descriptor.set !== undefined) return 'setter';
  return typeof descriptor.value === 'function' ? 'method' : 'field';
}
