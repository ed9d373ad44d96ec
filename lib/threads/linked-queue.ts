/**
 * A first-in-first-out queue from which any entry can also be taken out in constant time, by the
 * handle its `push` returned: the pool's queue of waiting children, which a cancelled child
 * leaves from wherever it stands (an array's `indexOf` and `splice` would cost the length of the
 * queue each time, the square of it for a whole branch).
 */

/** An entry's place in a {@link LinkedQueue}: what takes it out again. */
export interface QueueEntry<T> {
  readonly value: T;
  /** @internal */ previous: QueueEntry<T> | undefined;
  /** @internal */ next: QueueEntry<T> | undefined;
  /** @internal The queue it is in; undefined once it left. */ queue: LinkedQueue<T> | undefined;
}

export class LinkedQueue<T> {
  #first: QueueEntry<T> | undefined = undefined;
  #last: QueueEntry<T> | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The value that has waited longest, left where it is. */
  get first(): T | undefined {
    return this.#first?.value;
  }

  /** Adds `value` at the back; returns its entry. */
  push(value: T): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, previous: this.#last, next: undefined, queue: this };
    if (this.#last === undefined) this.#first = entry;
    else this.#last.next = entry;
    this.#last = entry;
    this.#size++;
    return entry;
  }

  /** Adds `value` at the front, to be taken first; returns its entry. */
  unshift(value: T): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, previous: undefined, next: this.#first, queue: this };
    if (this.#first === undefined) this.#last = entry;
    else this.#first.previous = entry;
    this.#first = entry;
    this.#size++;
    return entry;
  }

  /** Takes out the value that has waited longest. */
  shift(): T | undefined {
    const entry = this.#first;
    if (entry === undefined) return undefined;
    this.remove(entry);
    return entry.value;
  }

  /** Takes `entry` out, wherever it stands; nothing happens if it already left. */
  remove(entry: QueueEntry<T>): void {
    if (entry.queue !== this) return;
    if (entry.previous === undefined) this.#first = entry.next;
    else entry.previous.next = entry.next;
    if (entry.next === undefined) this.#last = entry.previous;
    else entry.next.previous = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
    entry.queue = undefined;
    this.#size--;
  }

  /** Empties the queue; returns what it held, first first. */
  drain(): T[] {
    const values: T[] = [];
    for (let value = this.shift(); value !== undefined; value = this.shift()) values.push(value);
    return values;
  }
}
