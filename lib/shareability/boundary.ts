import { ShareabilityError } from '../errors/shareability-error';
import { findViolation } from './check';
import { isTransfer, receiveTransfer } from './transfer';

/**
 * The border a value crosses on its way into or out of a monitor call: it is checked, and a
 * `transfer()` marker is exchanged for the buffer it moves. Every call path goes through here,
 * local or remote, so a call means the same thing wherever the monitor lives.
 *
 * Calls are hot: the messages are put together only when a value is refused.
 */

/** Which value of a call: an argument's position, or a name such as `'return value'`. */
export type ValueRole = number | string;

/**
 * Checks every argument of a call, in place, and returns the arguments the callee receives.
 *
 * @param where - the call, e.g. `Counter.add`, for messages
 */
export function passArguments(where: string, args: unknown[]): unknown[] {
  let transfers = false;
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (typeof argument !== 'object' && typeof argument !== 'function' && typeof argument !== 'symbol') continue;
    const found = findViolation(argument);
    if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', describeRole(where, index), found.path, found.what, found.fix);
    transfers ||= isTransfer(argument);
  }
  // Buffers move only once every argument has passed, so a refused call moves nothing.
  if (transfers) {
    for (let index = 0; index < args.length; index++) {
      const argument = args[index];
      if (isTransfer(argument)) args[index] = receiveTransfer(argument, describeRole(where, index));
    }
  }
  return args;
}

/**
 * Checks one whole value (an argument or a result) and returns what the receiver gets.
 *
 * @param where - the call or place, e.g. `Counter.get`, for messages
 * @param role - which value it is there
 */
export function passValue(value: unknown, where: string, role: ValueRole): unknown {
  const found = findViolation(value);
  if (found !== undefined) throw new ShareabilityError('ERR_NOT_SHAREABLE', describeRole(where, role), found.path, found.what, found.fix);
  return isTransfer(value) ? receiveTransfer(value, describeRole(where, role)) : value;
}

function describeRole(where: string, role: ValueRole): string {
  return `${where}: ${typeof role === 'number' ? `argument ${role}` : role}`;
}
