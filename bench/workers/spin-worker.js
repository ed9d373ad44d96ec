'use strict';
/**
 * The hardware ceiling of the cpu-children bench: a bare worker that runs `count` spins of
 * `steps` each per message and posts their checksum back. No pool, no protocol: what N threads
 * of this machine can do at all.
 */
const { parentPort } = require('node:worker_threads');
const { spin } = require('./spin');

parentPort.on('message', ({ steps, count }) => {
  let sum = 0;
  for (let i = 0; i < count; i++) sum = (sum + spin(steps)) | 0;
  parentPort.postMessage(sum);
});
