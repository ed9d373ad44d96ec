import { types } from 'node:util';

/**
 * One permit's state in shared memory, seen by the thread that asked for it and by the lock's
 * thread alike: the lock grants it there, the holder releases it here, without a message.
 *
 * Why shared memory and not a call's answer: the call that asks for a permit keeps running on the
 * lock's thread for as long as the permit is held, so that when the holder's thread dies its call
 * is taken back like every call of a dead thread, and the permit with it. A call answers once, at
 * its end; the grant, which comes earlier, needs another way: this cell.
 *
 * Layout: an Int32 state at byte 0, and at byte 8 the id of the call that holds it (a Float64:
 * call ids pass 2^31), so that the holder's turn can stop counting that call among its waits.
 */
export class PermitCell {
  readonly memory: SharedArrayBuffer;
  readonly #state: Int32Array;
  readonly #call: Float64Array;
  /** The holder's side gave up waiting (its call failed): its wait for the grant ends. */
  #abandoned = false;

  constructor(memory: SharedArrayBuffer = new SharedArrayBuffer(CELL_BYTES)) {
    this.memory = memory;
    this.#state = new Int32Array(memory, 0, 1);
    this.#call = new Float64Array(memory, 8, 1);
  }

  /** Whether `memory` can be a cell: what a forged call might pass instead is refused. */
  static fits(memory: unknown): memory is SharedArrayBuffer {
    // Not instanceof: memory from another thread may belong to another realm (jest's sandbox).
    return types.isSharedArrayBuffer(memory) && memory.byteLength === CELL_BYTES;
  }

  /** The id of the call that holds the permit, once granted. */
  get callId(): number {
    return this.#call[0] as number;
  }

  /** The lock's thread: the permit is the holder's now. */
  grant(callId: number): void {
    this.#call[0] = callId;
    Atomics.store(this.#state, 0, GRANTED);
    Atomics.notify(this.#state, 0);
  }

  /** The holder's thread: resolves once granted; false when abandoned first. */
  async granted(): Promise<boolean> {
    for (;;) {
      if (Atomics.load(this.#state, 0) !== WAITING) return true;
      if (this.#abandoned) return false;
      const wait = Atomics.waitAsync(this.#state, 0, WAITING);
      if (wait.async) await wait.value;
    }
  }

  /** The holder's thread: its call failed, so no grant will come; ends the wait of `granted()`. */
  abandon(): void {
    this.#abandoned = true;
    Atomics.notify(this.#state, 0);
  }

  /** Gives the permit back, from any thread; false when it was not held (already released). */
  release(): boolean {
    const was = Atomics.compareExchange(this.#state, 0, GRANTED, RELEASED);
    if (was !== GRANTED) return false;
    Atomics.notify(this.#state, 0);
    return true;
  }

  /** The lock's thread: resolves once the permit is released. */
  async released(): Promise<void> {
    for (;;) {
      if (Atomics.load(this.#state, 0) === RELEASED) return;
      const wait = Atomics.waitAsync(this.#state, 0, GRANTED);
      if (wait.async) await wait.value;
    }
  }
}

const CELL_BYTES = 16;
const WAITING = 0;
const GRANTED = 1;
const RELEASED = 2;
