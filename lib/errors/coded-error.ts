import { formatMessage, type ErrorCode } from './codes';

/** A built-in error class: `Error`, `TypeError`, `AggregateError`. */
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * `Base` given a `name` and a stable `code`: constructed as `(code, details, ...arguments)`, the
 * code, the details its message is made from (see codes.ts), then the arguments `Base` takes
 * besides the message (`options` for `Error` and its kin, `errors, options` for `AggregateError`).
 * It keeps `Base`'s static side.
 */
export type CodedErrorClass<B extends ErrorClass, N extends string> = Pick<B, keyof B> &
  (abstract new (code: ErrorCode, details: readonly unknown[], ...baseArguments: unknown[]) => InstanceType<B> & {
    readonly name: N;
    /** The stable code of this failure. */
    readonly code: ErrorCode;
  });

/**
 * The base of every safethread error class: `Base` given a `name`, a stable `code`, and a message
 * made from the table of codes, in one place. Not exported from the package: each public class
 * extends it and declares only its codes, its constructor and what it carries besides.
 *
 * @param name - the `name` every instance has, an own enumerable property like a class field
 * @param messageAt - where `Base` takes its message among its arguments: after the errors of an
 *   `AggregateError`, first for the others
 * @example
 * ```ts
 * export class ThreadCrashError extends codedError(Error, 'ThreadCrashError') {
 *   declare readonly code: 'ERR_THREAD_CRASH';
 *   constructor(what: string, how: string, options?: ErrorOptions) {
 *     super('ERR_THREAD_CRASH', [what, how], options);
 *   }
 * }
 * ```
 */
export function codedError<B extends ErrorClass, N extends string>(Base: B, name: N, messageAt = 0): CodedErrorClass<B, N> {
  abstract class CodedError extends Base {
    override readonly name: N = name;
    readonly code: ErrorCode;

    // A mixin's constructor must take `any[]`: CodedErrorClass says what it takes.
    constructor(...args: any[]) {
      const [code, details, ...rest] = args as [ErrorCode, readonly unknown[], ...unknown[]];
      const message = (formatMessage as (code: ErrorCode, ...details: readonly unknown[]) => string)(code, ...details);
      super(...rest.slice(0, messageAt), message, ...rest.slice(messageAt));
      this.code = code;
    }
  }
  return CodedError as unknown as CodedErrorClass<B, N>;
}
