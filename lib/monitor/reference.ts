import { inspect } from 'node:util';
import { DefinitionError } from '../errors/definition-error';
import { MonitorAccessError } from '../errors/monitor-access-error';
import { slot } from '../runtime';
import { knownObjects } from '../shareability/known-objects';
import type { MonitorEndpoint } from './monitor-endpoint';

/** `Symbol.asyncDispose`, also where a realm (jest's vm context) lacks Node's own, which is this registered symbol. */
const ASYNC_DISPOSE: symbol = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/**
 * A monitor reference: what `new Counter()` returns, and what crosses threads in its place.
 *
 * It is a Proxy over an empty frozen object whose prototype is the monitor class's, so
 * `reference instanceof Counter` holds, while every property other than a monitor method throws
 * {@link MonitorAccessError}: the state lives with the monitor and is reached through its
 * methods only. Reading `then` gives `undefined`, so a reference can be returned from an async
 * function or awaited like any other value.
 */
export function createReference(endpoint: MonitorEndpoint): object {
  const { plan, label } = endpoint;
  const prototype = (plan.decorated as Function).prototype as object;
  const callers = new Map<string, (...args: unknown[]) => unknown>();
  for (const [key, mark] of plan.methods) {
    callers.set(key, mark.stream ? (...args: unknown[]) => endpoint.stream(key, args) : (endpoint.caller?.(key) ?? ((...args: unknown[]) => endpoint.call(key, args))));
  }
  const describe = () => `[monitor ${label}]`;
  const dispose = () => close(reference);

  const reference = new Proxy(Object.freeze(Object.create(prototype) as object), {
    get(_target, key) {
      if (typeof key === 'string') {
        const caller = callers.get(key);
        if (caller !== undefined) return caller;
        if (key === 'then') return undefined;
        // The class, not state: lets `reference.constructor` and test tools' messages work.
        if (key === 'constructor') return plan.decorated;
        throw new MonitorAccessError('ERR_MONITOR_ACCESS_READ', label, key);
      }
      if (key === inspect.custom || key === Symbol.toPrimitive) return describe;
      if (key === Symbol.toStringTag) return 'MonitorReference';
      if (key === ASYNC_DISPOSE) return dispose;
      return undefined;
    },
    set(_target, key) {
      throw new MonitorAccessError('ERR_MONITOR_ACCESS_WRITE', label, String(key));
    },
    defineProperty(_target, key) {
      throw new MonitorAccessError('ERR_MONITOR_ACCESS_WRITE', label, String(key));
    },
    deleteProperty(_target, key) {
      throw new MonitorAccessError('ERR_MONITOR_ACCESS_WRITE', label, String(key));
    },
    has(_target, key) {
      return typeof key === 'string' && callers.has(key);
    },
  });
  references().add(reference, endpoint);
  // It protects itself: the shareability rules let it cross threads as it is.
  knownObjects().addSelfProtecting(reference);
  return reference;
}

/** The endpoint a monitor reference of this thread calls; undefined for anything else. */
export function endpointOf(reference: object): MonitorEndpoint | undefined {
  return references().endpointOf(reference);
}

/** The monitor references made on this thread, and the endpoint each one calls. */
class References {
  readonly #endpoints = new WeakMap<object, MonitorEndpoint>();

  add(reference: object, endpoint: MonitorEndpoint): void {
    this.#endpoints.set(reference, endpoint);
  }

  endpointOf(reference: object): MonitorEndpoint | undefined {
    return this.#endpoints.get(reference);
  }
}

const references = slot('monitor references', () => new References());

/**
 * Closes a monitor: an actor's thread ends; a monitor of this thread stops taking calls. Calls
 * still waiting and every later call reject with `MonitorClosedError`. A reference's
 * `Symbol.asyncDispose` does the same, so `await using` closes it at the end of the block.
 *
 * @example
 * ```ts
 * const log = await spawn(AuditLog);
 * try { await log.write('hello'); } finally { await close(log); }
 * ```
 */
export async function close(reference: object): Promise<void> {
  const endpoint = endpointOf(reference);
  if (endpoint === undefined) throw new DefinitionError('ERR_NOT_A_MONITOR', 'close(reference)', 'reference', reference === null ? 'null' : typeof reference);
  await endpoint.close('it was closed');
}
