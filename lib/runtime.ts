/**
 * The runtime kernel: safethread's state on this thread.
 *
 * Every thread (and every jest module registry) loads its own copy of this module and so gets its
 * own state; no other module of `lib/` keeps mutable state at module level. That is what lets two
 * runtimes sit side by side without interfering.
 *
 * The state lives in named slots. Each module declares the slots it owns, as small classes whose
 * methods are the only way to change them (`slot('tasks', () => new TaskRegistry())`), and other
 * modules call the owner's exported functions: each piece of state has one writer, and sits in
 * the lowest module that needs it, so every layer reaches its state through its own layer or a
 * lower one. This module knows none of them and imports nothing from `lib/`: it is below them all.
 *
 * Besides the slots it holds the one fact that every layer needs and no module owns: which thread
 * this is. Tokens and calls are numbered under it, and the errors and messages of every
 * layer name it; a worker's start-up names its thread once, before anything else runs there.
 */

/** The state of each slot made so far on this thread, by name. */
const slots = new Map<string, unknown>();

/**
 * Declares a slot of this thread's state, owned by the module that declares it, and returns what
 * reaches it. The state is made on first use. Slots hold objects whose methods are the only way
 * to change them, so each piece of state has one writer: its owner's class.
 *
 * @param name - what the state is, unique in lib/ (a module that a test runner loads twice over
 *   the same kernel finds the same state under the same name)
 * @param make - makes the state when first reached
 * @example
 * ```ts
 * const registry = slot('tasks', () => new TaskRegistry());
 * registry().register(fn, location);
 * ```
 */
export function slot<T>(name: string, make: () => T): () => T {
  let found: { readonly state: T } | undefined;
  return () => (found ??= { state: stateOf(name, make) }).state;
}

function stateOf<T>(name: string, make: () => T): T {
  if (slots.has(name)) return slots.get(name) as T;
  const state = make();
  slots.set(name, state);
  return state;
}

/** Which thread this is, as every layer names it in messages, ids and keys. */
export interface ThreadIdentity {
  /** `worker_threads.threadId`: 0 on the main thread. */
  readonly id: number;
  /** How messages name it: `main`, `thread N`, or `actor Name (thread N)`. */
  readonly name: string;
}

let identity: ThreadIdentity = Object.freeze({ id: 0, name: 'main' });

/** This thread: the main thread until a worker's start-up names it. */
export function thisThread(): ThreadIdentity {
  return identity;
}

/** Names this thread, once, when a worker starts (threads/worker-entry.ts, from its start message). */
export function nameThisThread(id: number, name: string): void {
  identity = Object.freeze({ id, name });
}
