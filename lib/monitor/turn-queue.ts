/**
 * The FIFO of turns of one monitor: a turn starts when the previous one has released the
 * monitor, in the order the calls arrived.
 *
 * The holder calls `release()` when its method has settled; that starts the next waiting turn.
 * A turn that releases synchronously (a method that throws before its first await) does not
 * recurse into the next one: the pump loop takes it, so a long queue of such calls cannot
 * overflow the stack.
 */
export type Turn = () => void;

export class TurnQueue {
  #held = false;
  #pumping = false;
  readonly #waiting: Turn[] = [];
  #head = 0;

  /** Whether a turn holds the monitor now. */
  get held(): boolean {
    return this.#held;
  }

  /** Whether a call arriving now may start at once: nobody holds the monitor and nobody waits. */
  get free(): boolean {
    return !this.#held && this.#head === this.#waiting.length;
  }

  /** How many turns wait behind the holder. */
  get length(): number {
    return this.#waiting.length - this.#head;
  }

  /** Takes the free monitor for a turn that starts now (see `free`). */
  hold(): void {
    this.#held = true;
  }

  /** Queues a turn; it starts at once when the monitor is free. The turn must end with `release()`. */
  enter(turn: Turn): void {
    this.#waiting.push(turn);
    if (!this.#held && !this.#pumping) this.#pump();
  }

  /** Ends the current turn and starts the next waiting one, if any. */
  release(): void {
    this.#held = false;
    // Nobody waits: the common case of an uncontended monitor needs no pump.
    if (!this.#pumping && this.#head !== this.#waiting.length) this.#pump();
  }

  #pump(): void {
    this.#pumping = true;
    try {
      while (!this.#held && this.#head < this.#waiting.length) {
        const turn = this.#waiting[this.#head] as Turn;
        this.#waiting[this.#head++] = undefined as unknown as Turn;
        this.#compact();
        this.#held = true;
        turn();
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Drops the consumed front of the array once it is most of it, keeping `enter` O(1) amortised. */
  #compact(): void {
    if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    } else if (this.#head === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#head = 0;
    }
  }
}
