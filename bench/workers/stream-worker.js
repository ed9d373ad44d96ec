'use strict';
/**
 * The raw MessagePort anchor of the stream bench: at `{ count, batched }`, posts the numbers
 * 0 .. count - 1 to the main thread, one message each, or all of them in one array when batched.
 */
const { parentPort } = require('node:worker_threads');

parentPort.on('message', ({ count, batched }) => {
  if (batched) {
    const values = new Array(count);
    for (let i = 0; i < count; i++) values[i] = i;
    parentPort.postMessage(values);
    return;
  }
  for (let i = 0; i < count; i++) parentPort.postMessage(i);
});
