import { CancelledError } from '../errors/cancelled-error';
import { observables } from '../observables';
import { slot, thisThread } from '../runtime';
import { knownObjects } from '../shareability/known-objects';
import { codecs } from '../threads/codec-registry';
import type { TokenMarker } from '../threads/protocol';
import { allocateTokenMemory, CANCELLED, LIVE, mapTokenMemory, readReason, shareTokenMemory, STATE, writeCancellation } from './token-memory';

/**
 * A cancellation token: the read side of a {@link CancellationSource}. It is shareable: pass it
 * to children, tasks and monitor calls on any thread. Cancelling the source is seen on every
 * thread at once: `cancelled` is one atomic read of shared memory, cheap enough for a tight CPU
 * loop, and `onCancel` callbacks and `signal` listeners run on each thread that registered them.
 *
 * @example
 * ```ts
 * export const crunch = task(function crunch(limit: number): number {
 *   const token = currentToken();
 *   let n = 0;
 *   while (n < limit && !token.cancelled) n++; // stops as soon as the branch is cancelled
 *   return n;
 * });
 * ```
 */
export class CancellationToken {
  /** Shared state; undefined for a token that can never be cancelled. */
  readonly #memory: Int32Array | undefined;
  /**
   * The shared state of the tokens this one is linked to (parent first): a cancel anywhere up the
   * chain is seen here at once, whatever the threads in between are busy with.
   */
  readonly #ancestors: readonly Int32Array[];
  /** `thread:number`, the same on every thread. */
  readonly #id: string;
  /** Whether its source lives on this thread: then `cancel` fires listeners itself; otherwise a shared-memory wait does. */
  readonly #local: boolean;
  /** Made with the first callback: most tokens (a child's, say) never get one on most threads. */
  #listeners: Set<(reason: unknown) => void> | undefined;
  #watching = false;
  /** Which round of shared-memory waits is current. */
  #watchRound = 0;
  #reason: { readonly value: unknown } | undefined;
  #controller: AbortController | undefined;

  // Private, so that the published declarations say so: tokens come from a CancellationSource (or
  // `none`, `fromSignal`, `fromObservable`), and the library makes them through `make`.
  private constructor(memory: Int32Array | undefined, id: string, local: boolean, ancestors: readonly Int32Array[] = []) {
    this.#memory = memory;
    this.#ancestors = ancestors;
    this.#id = id;
    this.#local = local;
    tokensKnownAsSelfProtecting();
  }

  /** @internal Whether `value` is a token: by its private memory, which nothing but this class can give an object. */
  static isToken(value: object): boolean {
    return #memory in value;
  }

  /** @internal A token over `memory` (undefined: never cancelled), whose source is this thread when `local`. */
  static make(memory: Int32Array | undefined, id: string, local: boolean, ancestors: readonly Int32Array[] = []): CancellationToken {
    return new CancellationToken(memory, id, local, ancestors);
  }

  /** A token that is never cancelled: what `currentToken()` gives outside any branch, task or call. */
  static get none(): CancellationToken {
    return knownTokens().none();
  }

  /**
   * A token cancelled when `signal` aborts, with the signal's reason.
   *
   * @example
   * ```ts
   * const token = CancellationToken.fromSignal(AbortSignal.timeout(5000));
   * ```
   */
  static fromSignal(signal: AbortSignal): CancellationToken {
    const { token, cancel } = ownToken();
    if (signal.aborted) cancel(signal.reason);
    else signal.addEventListener('abort', () => cancel(signal.reason), { once: true });
    return token;
  }

  /**
   * A token cancelled when `observable` first emits (with that value as the reason) or errors
   * (with the error). Completing without a value never cancels it.
   *
   * @example
   * ```ts
   * const token = CancellationToken.fromObservable(fromEvent(stopButton, 'click'));
   * ```
   */
  static fromObservable(observable: { subscribe(observer: { next(value: unknown): void; error(error: unknown): void }): { unsubscribe(): void } }): CancellationToken {
    const { token, cancel } = ownToken();
    // An observable may emit during subscribe(), before the subscription exists: unsubscribe after.
    let subscription: { unsubscribe(): void } | undefined;
    subscription = observable.subscribe({
      next: (value) => {
        cancel(value);
        subscription?.unsubscribe();
      },
      error: (error) => cancel(error),
    });
    if (token.cancelled) subscription.unsubscribe();
    return token;
  }

  /** Whether the source was cancelled, read from shared memory: true on every thread at once. */
  get cancelled(): boolean {
    return this.#cancelledMemory() !== undefined;
  }

  /** The first memory of the chain (this token's own, then its ancestors') that is cancelled. */
  #cancelledMemory(): Int32Array | undefined {
    if (this.#memory === undefined) return undefined;
    if (Atomics.load(this.#memory, STATE) === CANCELLED) return this.#memory;
    for (const ancestor of this.#ancestors) if (Atomics.load(ancestor, STATE) === CANCELLED) return ancestor;
    return undefined;
  }

  /** Why it was cancelled, on any thread; undefined while it is not. */
  get reason(): unknown {
    if (!this.cancelled) return undefined;
    this.#reason ??= { value: readReason(this.#cancelledMemory() as Int32Array) };
    return this.#reason.value;
  }

  /** Throws a {@link CancelledError} carrying the reason if the token was cancelled. */
  throwIfCancelled(): void {
    if (this.cancelled) throw new CancelledError(this.reason);
  }

  /**
   * Runs `callback(reason)` on this thread when the token is cancelled (at once if it already
   * is). Returns a function that removes the callback.
   */
  onCancel(callback: (reason: unknown) => void): () => void {
    if (this.cancelled) {
      callback(this.reason);
      return () => {};
    }
    if (this.#memory === undefined) return () => {};
    (this.#listeners ??= new Set()).add(callback);
    this.#watch();
    return () => {
      this.#listeners?.delete(callback);
    };
  }

  /** An AbortSignal that aborts, with the reason, when the token is cancelled: for fetch and friends. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      this.onCancel((reason) => controller.abort(reason));
    }
    return this.#controller.signal;
  }

  /**
   * The token as an rxjs Observable that emits the reason once, when cancelled, then completes.
   *
   * @example
   * ```ts
   * ticks$.pipe(takeUntil(token.asObservable())).subscribe(console.log);
   * ```
   */
  asObservable(): import('rxjs').Observable<unknown> {
    // rxjs is loaded only by its adapter, and only when asked for.
    return observables('CancellationToken.asObservable()').tokenAsObservable(this);
  }

  /** @internal The shared memory and id, for carrying the token to another thread. */
  get shared(): { readonly memory: Int32Array | undefined; readonly id: string; readonly ancestors: readonly Int32Array[] } {
    return { memory: this.#memory, id: this.#id, ancestors: this.#ancestors };
  }

  /** @internal The source's own thread keeps the reason as it was given, not a copy. */
  remember(reason: unknown): void {
    this.#reason = { value: reason };
  }

  /** @internal Runs the listeners on this thread, once. */
  fire(): void {
    if (this.#listeners === undefined) return;
    const reason = this.reason;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        // A failing listener must not stop the others; report it as Node reports a failing event listener.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /**
   * A token whose source is on another thread learns of the cancel by waiting on the shared word.
   * The wait has a timeout and is renewed only while callbacks remain, so a token nobody listens
   * to any more is not kept alive by its own wait.
   */
  #watch(): void {
    if (this.#watching || this.#memory === undefined) return;
    // A local token hears of its own cancel from its source; it waits only on its ancestors.
    const memories = this.#local ? this.#ancestors : [this.#memory, ...this.#ancestors];
    if (memories.length === 0) return;
    this.#watching = true;
    const round = ++this.#watchRound;
    // The waits hold the token only weakly: a token nobody else holds is not kept alive by them.
    const self = new WeakRef<CancellationToken>(this);
    const check = () => {
      const token = self.deref();
      if (token !== undefined) token.#woken(round);
    };
    for (const memory of memories) {
      const waited = Atomics.waitAsync(memory, STATE, 0, WATCH_RENEWAL_MS);
      if (waited.async) void waited.value.then(check);
      else queueMicrotask(check);
    }
  }

  /** The first wait of a round to end decides; the round's other waits are then stale. */
  #woken(round: number): void {
    if (round !== this.#watchRound || !this.#watching) return;
    this.#watching = false;
    if (this.cancelled) this.fire();
    else if (this.#listeners !== undefined && this.#listeners.size > 0) this.#watch();
  }
}

/** The tokens known on this thread, by id, so that one token has one object here; and `none`, made once. */
class KnownTokens {
  readonly #byId = new Map<string, WeakRef<CancellationToken>>();
  /**
   * The table's size at which the ids of collected tokens are swept out: twice what was left the
   * last time, so each token costs the sweeping a constant share. (A FinalizationRegistry that
   * forgets each id as its token goes cost more than the rest of making a child's token.)
   */
  #sweepAt = MIN_SWEEP_SIZE;
  #nextNumber = 1;
  #none: CancellationToken | undefined;

  /** The id of a new token whose source is this thread: `thread:number`, the same on every thread. */
  newId(): string {
    return `${thisThread().id}:${this.#nextNumber++}`;
  }

  remember(token: CancellationToken): void {
    this.#byId.set(token.shared.id, new WeakRef(token));
    if (this.#byId.size >= this.#sweepAt) this.#sweep();
  }

  #sweep(): void {
    for (const [id, known] of this.#byId) if (known.deref() === undefined) this.#byId.delete(id);
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, 2 * this.#byId.size);
  }

  find(id: string): CancellationToken | undefined {
    return this.#byId.get(id)?.deref();
  }

  none(): CancellationToken {
    return (this.#none ??= CancellationToken.make(undefined, 'none', true));
  }
}

/** Tokens cross threads as they are: the shareability rules know them by {@link CancellationToken.isToken}, once per thread. */
const tokensKnownAsSelfProtecting = slot('tokens known as self-protecting', () => knownObjects().addSelfProtectingKind(CancellationToken.isToken));

/** Below this many ids the table is never swept. */
const MIN_SWEEP_SIZE = 1024;

const knownTokens = slot('cancellation tokens', () => new KnownTokens());

/** How long one shared-memory wait lasts before it is renewed (if anyone still listens). */
const WATCH_RENEWAL_MS = 1000;

/** @internal A token and what cancels it, everywhere: the first cancel wins. */
export interface OwnedToken {
  readonly token: CancellationToken;
  cancel(reason: unknown): void;
  /**
   * The token it follows was cancelled, with `reason`, on this thread: its callbacks here run
   * at once. (Without this call they run too, a moment later, when its wait on the parent's
   * shared memory ends, and with a copy of the reason.)
   */
  parentCancelled(reason: unknown): void;
}

/**
 * @internal A new token whose source is this thread, linked to `ancestors` (the memories of the
 * tokens it follows, parent first), and what cancels it, everywhere, with a reason: the first
 * cancel wins. What a {@link CancellationSource} owns, and the tokens of `fromSignal` and
 * `fromObservable`.
 */
export function ownToken(ancestors: readonly Int32Array[] = []): OwnedToken {
  const memory = allocateTokenMemory();
  const token = CancellationToken.make(memory, knownTokens().newId(), true, ancestors);
  knownTokens().remember(token);
  return {
    token,
    cancel(reason) {
      if (token.cancelled) return;
      token.remember(reason);
      writeCancellation(memory, reason, thisThread().name);
      token.fire();
    },
    parentCancelled(reason) {
      // It reads as cancelled through the parent's memory already, on every thread, with the
      // parent's reason; its own memory stays as it is (a branch of 100,000 children would copy
      // the reason 100,000 times). Here, it keeps the reason as given and runs its callbacks now.
      // Cancelled on its own before, it keeps its own reason.
      if (Atomics.load(memory, STATE) !== LIVE) return;
      token.remember(reason);
      token.fire();
    },
  };
}

/**
 * @internal A new token of this thread that follows `parent`: it reads as cancelled, on every
 * thread, as soon as the parent is. It does not listen to the parent, though: whoever owns it
 * tells it when the parent is cancelled (`parentCancelled`), so that its callbacks on this thread
 * run at once. A {@link CancellationSource} does that with a listener of its own; a branch does
 * it for all its children with one listener, rather than one per child.
 */
export function followingToken(parent: CancellationToken | undefined): OwnedToken {
  if (parent === undefined) return ownToken();
  const { memory, ancestors } = parent.shared;
  return ownToken(memory === undefined ? [] : [memory, ...ancestors]);
}

// A token crosses threads as its shared memory, which every thread maps.
codecs().register({
  kind: 'token',
  encode: (value) => (value instanceof CancellationToken ? tokenMarker(value) : undefined),
  decode: tokenFromMarker,
});

/** @internal A token as it travels: its slot of shared memory and its ancestors'. */
export function tokenMarker(token: CancellationToken): TokenMarker {
  const { memory, id, ancestors } = token.shared;
  return { kind: 'token', id, memory: memory === undefined ? undefined : shareTokenMemory(memory), ancestors: ancestors.map(shareTokenMemory) };
}

/** @internal The token for a marker that arrived: one object per token on each thread, over the same shared memory. */
export function tokenFromMarker(marker: TokenMarker): CancellationToken {
  if (marker.memory === undefined) return CancellationToken.none;
  const known = knownTokens().find(marker.id);
  if (known !== undefined) return known;
  const ancestors = marker.ancestors.map(mapTokenMemory);
  const token = CancellationToken.make(mapTokenMemory(marker.memory), marker.id, false, ancestors);
  knownTokens().remember(token);
  return token;
}
