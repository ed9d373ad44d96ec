'use strict';
/**
 * The SharedArrayBuffer + Atomics anchor: the lower limit of a cross-thread wake-up.
 *
 * Slot 0 of the shared Int32Array is the state: the main thread sets REQUEST and notifies; this
 * thread answers with REPLY and notifies back; STOP ends the loop so the thread can exit.
 */
const { workerData } = require('node:worker_threads');

const REQUEST = 1;
const REPLY = 2;
const STOP = 3;
const state = new Int32Array(workerData);

let expected = 0;
for (;;) {
  Atomics.wait(state, 0, expected);
  const now = Atomics.load(state, 0);
  if (now === STOP) break;
  if (now === REQUEST) {
    Atomics.store(state, 0, REPLY);
    Atomics.notify(state, 0);
    expected = REPLY;
  } else {
    expected = now;
  }
}
