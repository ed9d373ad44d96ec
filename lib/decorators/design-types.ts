import { DefinitionError } from '../errors/definition-error';
import { ShareabilityError } from '../errors/shareability-error';
import type { MonitorPlan } from '../monitor/monitor-plan';
import { monitorClasses } from '../monitor/class-registry';
import { fixFor } from '../shareability/check';
import { knownObjects } from '../shareability/known-objects';
import { shareableClasses } from '../shareability/shareable-classes';

/**
 * Reads the declared types that legacy decorators with `emitDecoratorMetadata` record
 * (`design:paramtypes`, `design:returntype`) and refuses, when the class is defined, a monitor
 * whose parameters are declared as types that are never shareable.
 *
 * Optional by design: it runs only when `Reflect.getMetadata` exists (the user imported
 * `reflect-metadata`); safethread never requires it. The metadata holds constructors only, so
 * `string[]` and `readonly string[]` both read as `Array` and are left to the run-time check.
 */
type GetMetadata = (key: string, target: object, property?: string) => unknown;

/** Constructors that stand for values that may be shareable. */
const MAYBE_SHAREABLE: readonly unknown[] = [
  Object, Array, String, Number, Boolean, BigInt, SharedArrayBuffer, ArrayBuffer, DataView,
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, undefined,
];

/** Constructors that stand for values that are never shareable. */
const NEVER_SHAREABLE: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [Map, 'Map'], [Set, 'Set'], [WeakMap, 'WeakMap'], [WeakSet, 'WeakSet'], [Date, 'Date'], [RegExp, 'RegExp'],
  [Promise, 'Promise'], [Function, 'Function'], [Symbol, 'Symbol'], [WeakRef, 'WeakRef'], [Error, 'Error'],
]);

export function checkDeclaredTypes(plan: MonitorPlan): void {
  const getMetadata = (Reflect as unknown as { getMetadata?: GetMetadata }).getMetadata;
  if (typeof getMetadata !== 'function') return;
  const { original, className } = plan;
  checkParameters(getMetadata('design:paramtypes', original), `${className} constructor`, plan);
  for (const mark of plan.methods.values()) {
    const where = `${className}.${mark.displayName}`;
    checkParameters(getMetadata('design:paramtypes', original.prototype as object, mark.key), where, plan);
    const returns = getMetadata('design:returntype', original.prototype as object, mark.key);
    if (returns !== undefined && returns !== Promise && returns !== Object && (returns as Function).name !== 'Observable') {
      throw new DefinitionError('ERR_MONITOR_METHOD_NOT_ASYNC', where, `${(returns as Function).name} (its declared type)`);
    }
    // Declared to return a promise but not async: it would be taken for a stream method.
    if (mark.stream && returns === Promise) throw new DefinitionError('ERR_STREAM_METHOD_NOT_OBSERVABLE', where, 'a Promise (its declared type)');
  }
}

function checkParameters(types: unknown, where: string, plan: MonitorPlan): void {
  if (!Array.isArray(types)) return;
  types.forEach((type, index) => {
    const problem = declaredProblem(type, plan);
    if (problem !== undefined) {
      throw new ShareabilityError('ERR_UNSHAREABLE_DECLARED_TYPE', `${where}: parameter ${index}`, problem.declared, problem.fix);
    }
  });
}

function declaredProblem(type: unknown, plan: MonitorPlan): { declared: string; fix: string } | undefined {
  if (MAYBE_SHAREABLE.includes(type) || type === plan.original) return undefined;
  const builtin = NEVER_SHAREABLE.get(type) ?? (typeof type === 'function' && type.prototype instanceof Error ? 'Error' : undefined);
  if (builtin !== undefined) return { declared: `${builtin}, which is never shareable`, fix: fixFor(builtin) };
  if (typeof type !== 'function' || monitorClasses().has(type) || shareableClasses().has(type) || knownObjects().isSelfProtectingClass(type)) {
    return undefined;
  }
  return { declared: `class ${type.name}, which is neither @shareable nor a @Monitor`, fix: `mark ${type.name} @shareable, or declare a readonly plain type` };
}
