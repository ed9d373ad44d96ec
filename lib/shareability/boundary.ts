import { ShareabilityError } from '../errors/shareability-error';
import { findViolation, isTransfer } from './check';
import { receiveTransfer } from './transfer';

/**
 * The border a value crosses on its way into or out of a monitor call: it is checked, and a
 * `transfer()` marker is exchanged for the buffer it moves. Every call path goes through here,
 * local or remote, so a call means the same thing wherever the monitor lives.
 */

/**
 * Checks every argument of a call and returns the arguments the callee receives.
 *
 * @param where - the call, e.g. `Counter.add`, for messages
 */
export function passArguments(where: string, args: unknown[]): unknown[] {
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (typeof argument !== 'object' && typeof argument !== 'function' && typeof argument !== 'symbol') continue;
    args[index] = passValue(argument, `${where}: argument ${index}`);
  }
  return args;
}

/**
 * Checks one whole value (an argument or a result) and returns what the receiver gets.
 *
 * @param where - what the value is, e.g. `Counter.get: return value`, for messages
 */
export function passValue(value: unknown, where: string): unknown {
  const found = findViolation(value);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', where, found.path, found.what, found.fix);
  return isTransfer(value) ? receiveTransfer(value, where) : value;
}
