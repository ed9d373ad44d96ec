import { types } from 'node:util';
import { BranchError } from '../errors/branch-error';
import { CancelledError, TimeoutError } from '../errors/cancelled-error';
import { DeadlockError } from '../errors/deadlock-error';
import { ChannelClosedError } from '../errors/channel-closed-error';
import { DefinitionError } from '../errors/definition-error';
import { MonitorAccessError } from '../errors/monitor-access-error';
import { MonitorClosedError } from '../errors/monitor-closed-error';
import { ShareabilityError } from '../errors/shareability-error';
import { ThreadCrashError } from '../errors/thread-crash-error';
import { findErrorClass, locateErrorClass } from './error-class-location';
import type { ErrorClassLocation, PlainData, SerializedError } from './wire-types';

export type { SerializedError };

/**
 * Errors on their way between threads.
 *
 * Structured clone keeps only an error's message and a few built-in names: a `TimeoutError`
 * would arrive as a plain `Error` without `timeoutMs`, a user's `PaymentError` without its name,
 * and a thrown function would make the whole message fail to send. So an error crosses as plain
 * data ({@link SerializedError}) and is revived on arrival as an instance of its class, with its
 * `cause`, its extra properties and a stack that joins the frames of both threads. safethread's
 * and the platform's classes are revived by name; a user's class through the module that exports
 * it (see error-class-location.ts), without running its constructor.
 *
 * Serializing must never fail, since it runs while reporting another failure: whatever cannot be
 * read or carried (a throwing getter, a function, a cycle) is dropped, and nesting is bounded.
 */

/**
 * The classes revived as themselves, by name, most derived first: an error is sent as the first
 * class it is an instance of, so a user's subclass of `TimeoutError` arrives as a `TimeoutError`.
 */
const revivableClasses = {
  // safethread's own
  TimeoutError,
  CancelledError,
  ShareabilityError,
  DefinitionError,
  MonitorAccessError,
  MonitorClosedError,
  DeadlockError,
  ChannelClosedError,
  BranchError,
  ThreadCrashError,
  // the platform's
  AggregateError,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  Error,
} satisfies Record<string, Function & { readonly prototype: Error }>;

type RevivableName = keyof typeof revivableClasses;

/** How far causes and aggregated errors nest, and how many errors one message carries. */
const MAX_DEPTH = 32;
const MAX_ERRORS = 1000;
/** How deeply plain data nests before it is dropped rather than walked. */
const MAX_DATA_DEPTH = 64;
/** Carried in dedicated fields, so never among `props`. */
const OWN_FIELDS = new Set(['message', 'stack', 'cause', 'errors']);

interface Walk {
  readonly thread: string;
  /** The errors being serialized on the path from the top: a cause pointing back is a cycle. */
  readonly path: Set<object>;
  /** How many more errors may be serialized. */
  budget: number;
}

/**
 * Turns anything thrown into plain data that structured clone carries exactly. Never throws.
 *
 * @param thrown - the thrown value: an Error, or anything else
 * @param thread - where it was thrown, e.g. `'thread 3'`, named where the stacks join
 * @example
 * ```ts
 * port.postMessage({ ok: false, error: serializeError(error, thisThread().name) });
 * ```
 */
export function serializeError(thrown: unknown, thread: string): SerializedError {
  try {
    return serializeThrown(thrown, { thread, path: new Set(), budget: MAX_ERRORS }, 0);
  } catch {
    return { type: 'Error', name: 'Error', message: `an error thrown on ${thread} could not be read`, stack: '', thread };
  }
}

/**
 * Revives what {@link serializeError} made: an instance of the same class (or an `Error` named
 * after an unknown class), with its message, code, cause and properties; or the thrown value.
 *
 * @param callerStack - the stack of the call that waited for the result (`new Error().stack`
 *   taken when the call was made); its frames follow the remote ones
 * @example
 * ```ts
 * job.reject(deserializeError(message.error, job.callerStack));
 * ```
 */
export function deserializeError(data: SerializedError, callerStack?: string): unknown {
  return revive(data, callerStack === undefined ? [] : framesOf(callerStack));
}

function serializeThrown(thrown: unknown, walk: Walk, depth: number): SerializedError {
  walk.budget -= 1;
  if (isError(thrown)) return serializeAnError(thrown, walk, depth);
  const state: CopyState = { copies: new Map(), frozen: true };
  const copy = safely(() => copyPlainData(thrown, state, 0), undefined);
  const description = describe(thrown);
  if (copy !== undefined) {
    const frozen = typeof thrown === 'object' && thrown !== null && state.frozen;
    const carried = { value: copy.value, frozen };
    return { type: 'Error', name: typeof thrown, message: description, stack: '', thread: walk.thread, thrown: carried };
  }
  const name = typeof thrown === 'object' && thrown !== null ? constructorName(thrown) || 'Error' : 'Error';
  const message = `${description} from ${walk.thread} cannot cross threads; throw an Error or plain data instead`;
  const props = typeof thrown === 'object' && thrown !== null ? collectProps(thrown, undefined, walk, depth).props : undefined;
  return { type: 'Error', name, message, stack: `${name}: ${message}`, thread: walk.thread, ...(props && { props }) };
}

function serializeAnError(error: Error, walk: Walk, depth: number): SerializedError {
  walk.path.add(error);
  const type = revivableClassOf(error);
  const location = userClassLocation(error, type);
  const ownName = safely(() => String(error.name), 'Error');
  const className = constructorName(error);
  // A class that did not name itself still says what it was: `class PaymentError extends Error {}`.
  const name = ownName === type && className !== '' && className !== type ? className : ownName;
  const message = safely(() => String(error.message), '[message could not be read]');
  let stack = safely(() => (typeof error.stack === 'string' ? error.stack : ''), '');
  if (stack === '') stack = message === '' ? name : `${name}: ${message}`;
  else if (name !== ownName) stack = renameHeader(stack, ownName, name);
  const code = safely(() => (error as { code?: unknown }).code, undefined);
  const hasCause = safely(() => Object.hasOwn(error, 'cause'), false);
  const cause = hasCause ? safely(() => error.cause, undefined) : undefined;
  const nested = depth + 1 < MAX_DEPTH && walk.budget > 0;
  const serialized: SerializedError = {
    type,
    ...(location !== undefined && { location }),
    name,
    message,
    stack,
    thread: walk.thread,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(hasCause && nested && !isOnPath(cause, walk) && { cause: serializeThrown(cause, walk, depth + 1) }),
    ...(nested && serializeErrors(error, walk, depth)),
    ...collectProps(error, hasCause ? cause : undefined, walk, depth),
  };
  walk.path.delete(error);
  return serialized;
}

function serializeErrors(error: Error, walk: Walk, depth: number): { errors?: SerializedError[] } {
  const errors = safely(() => {
    const value = (error as { errors?: unknown }).errors;
    return Array.isArray(value) ? [...(value as unknown[])] : undefined;
  }, undefined);
  if (errors === undefined) return {};
  const carried: SerializedError[] = [];
  for (const each of errors) {
    if (walk.budget <= 0) break;
    if (!isOnPath(each, walk)) carried.push(serializeThrown(each, walk, depth + 1));
  }
  return { errors: carried };
}

/** The own enumerable properties that can be carried: plain data, errors, the cause again. */
function collectProps(object: object, cause: unknown, walk: Walk, depth: number): Pick<SerializedError, 'props' | 'errorProps'> {
  const props: Record<string, PlainData> = {};
  const errorProps: Record<string, SerializedError | 'cause'> = {};
  for (const key of safely(() => Object.keys(object), [])) {
    if (OWN_FIELDS.has(key)) continue;
    const descriptor = safely(() => Object.getOwnPropertyDescriptor(object, key), undefined);
    if (descriptor === undefined || !('value' in descriptor)) continue; // a getter might throw
    const value: unknown = descriptor.value;
    if (typeof value === 'object' && value !== null && value === cause) {
      errorProps[key] = 'cause';
      continue;
    }
    const copy = safely(() => copyPlainData(value, { copies: new Map(), frozen: true }, 0), undefined);
    if (copy !== undefined) props[key] = copy.value;
    else if (isError(value) && depth + 1 < MAX_DEPTH && walk.budget > 0 && !isOnPath(value, walk)) {
      errorProps[key] = serializeThrown(value, walk, depth + 1);
    }
  }
  return { ...(Object.keys(props).length > 0 && { props }), ...(Object.keys(errorProps).length > 0 && { errorProps }) };
}

interface CopyState {
  /** Copies made so far, by original: shared parts and cycles stay shared and cyclic. */
  readonly copies: Map<object, PlainData>;
  /** Whether every object copied so far was frozen. */
  frozen: boolean;
}

/**
 * A fresh copy of `value` when all of it is plain data (primitives, plain objects and arrays of
 * data properties), else `undefined`. Copying, rather than checking, means nothing the sender
 * does afterwards can make the message fail to send. Notes in `state` whether all was frozen.
 */
function copyPlainData(value: unknown, state: CopyState, depth: number): { value: PlainData } | undefined {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : { value: value as PlainData };
  }
  const known = state.copies.get(value);
  if (known !== undefined) return { value: known };
  if (depth >= MAX_DATA_DEPTH || types.isProxy(value)) return undefined;
  const prototype: unknown = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value) && prototype === Array.prototype;
  if (!isArray && prototype !== Object.prototype && prototype !== null) return undefined;
  if (!Object.isFrozen(value)) state.frozen = false;
  const copy: Record<string, PlainData> | PlainData[] = isArray ? new Array<PlainData>((value as unknown[]).length) : {};
  state.copies.set(value, copy);
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) return undefined;
    const part = copyPlainData(descriptor.value, state, depth + 1);
    if (part === undefined) return undefined;
    Object.defineProperty(copy, key, { value: part.value, writable: true, enumerable: true, configurable: true });
  }
  return { value: copy };
}

function revive(data: SerializedError, callerFrames: readonly string[]): unknown {
  if (data.thrown !== undefined) return data.thrown.frozen ? freezeCopy(data.thrown.value) : data.thrown.value;
  const error = Object.create(classToRevive(data).prototype) as Error;
  define(error, 'message', data.message, false);
  const boundary = `    at <thread boundary: thrown on ${data.thread}>`;
  define(error, 'stack', [data.stack, boundary, ...callerFrames].join('\n'), false);
  if (data.cause !== undefined) define(error, 'cause', revive(data.cause, []), false);
  if (data.errors !== undefined) define(error, 'errors', data.errors.map((each) => revive(each, [])), false);
  for (const [key, value] of Object.entries(data.props ?? {})) define(error, key, value, true);
  for (const [key, value] of Object.entries(data.errorProps ?? {})) {
    define(error, key, value === 'cause' ? error.cause : revive(value, []), true);
  }
  if (error.name !== data.name) define(error, 'name', data.name, Object.getOwnPropertyDescriptor(error, 'name')?.enumerable ?? false);
  if (data.code !== undefined && !Object.hasOwn(error, 'code')) define(error, 'code', data.code, true);
  return error;
}

/**
 * The table's class named by `type`, or the user's own class when its location leads, on this
 * thread, to a subclass of that one. Its constructor is not run (it could need arguments or have
 * side effects): the instance is made from its prototype and given the error's properties.
 */
function classToRevive(data: SerializedError): Function & { readonly prototype: Error } {
  const Known = Object.hasOwn(revivableClasses, data.type) ? revivableClasses[data.type as RevivableName] : Error;
  const Own = data.location === undefined ? undefined : findErrorClass(data.location);
  return Own !== undefined && safely(() => Own.prototype instanceof Known, false) ? (Own as typeof Known) : Known;
}

/**
 * Adds the caller's frames under the boundary line of an error that came from another thread, for
 * a caller that learns its own stack only once the error has arrived (an `async` caller's `new
 * Error().stack` there includes the awaiting functions). Other values are left as they are.
 */
export function appendCallerFrames(error: unknown, callerStack: string | undefined): void {
  if (callerStack === undefined || typeof error !== 'object' || error === null) return;
  const stack = (error as { stack?: unknown }).stack;
  if (typeof stack !== 'string' || !stack.includes('    at <thread boundary: thrown on ')) return;
  define(error, 'stack', [stack, ...framesOf(callerStack)].join('\n'), false);
}

/** `stack` with its first line naming `name` where it named `was` (`Error: x` to `PaymentError: x`). */
function renameHeader(stack: string, was: string, name: string): string {
  const rest = stack.slice(was.length);
  return stack.startsWith(was) && (rest === '' || rest.startsWith(':') || rest.startsWith('\n')) ? name + rest : stack;
}

/** The frame lines of a stack: everything from its first `at` line (the message may span lines). */
function framesOf(stack: string): string[] {
  const lines = stack.split('\n');
  const first = lines.findIndex((line) => /^\s+at /.test(line));
  return first === -1 ? lines.slice(1) : lines.slice(first);
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
}

/** A thrown value that was deeply frozen arrives deeply frozen, still shareable. */
function freezeCopy(value: PlainData): PlainData {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const part of Object.values(value)) freezeCopy(part as PlainData);
  }
  return value;
}

/** The key of the first (most derived) revivable class `error` is an instance of. */
function revivableClassOf(error: Error): RevivableName {
  const keys = Object.keys(revivableClasses) as RevivableName[];
  return safely(() => keys.find((key) => error instanceof revivableClasses[key]), undefined) ?? 'Error';
}

/**
 * Where the user's class of `error` is exported: its own class, or else the nearest exported one
 * it extends (an unexported `class CardExpired extends PaymentError` arrives as a PaymentError
 * named CardExpired), stopping at the table's class `type`.
 */
function userClassLocation(error: Error, type: RevivableName): ErrorClassLocation | undefined {
  return safely(() => {
    let prototype: unknown = Object.getPrototypeOf(error);
    for (let depth = 0; depth < MAX_DEPTH && typeof prototype === 'object' && prototype !== null && prototype instanceof Error; depth += 1) {
      const Class: unknown = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value;
      if (Class === revivableClasses[type]) return undefined;
      const location = typeof Class === 'function' ? locateErrorClass(Class) : undefined;
      if (location !== undefined) return location;
      prototype = Object.getPrototypeOf(prototype);
    }
    return undefined;
  }, undefined);
}

function isError(value: unknown): value is Error {
  return safely(() => value instanceof Error || types.isNativeError(value), false);
}

function isOnPath(value: unknown, walk: Walk): boolean {
  return typeof value === 'object' && value !== null && walk.path.has(value);
}

function constructorName(object: object): string {
  return safely(() => {
    const name: unknown = (object.constructor as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' ? name : '';
  }, '');
}

/** What a value is, in a few words, for a message. */
function describe(value: unknown): string {
  return safely(() => {
    if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
    if (typeof value === 'symbol') return value.toString();
    if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
    if (typeof value !== 'object' || value === null) return String(value);
    if (Array.isArray(value)) return 'an array';
    const name = constructorName(value);
    return name === '' || name === 'Object' ? 'an object' : `an instance of ${name}`;
  }, 'a value');
}

/** Runs `read`, or gives `fallback` if it throws: a hostile value must not break the report. */
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
