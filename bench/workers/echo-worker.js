'use strict';
/** The raw MessagePort anchor: every message goes straight back, untouched. */
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (message) => parentPort.postMessage(message));
