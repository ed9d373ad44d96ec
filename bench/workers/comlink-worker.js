'use strict';
/** The Comlink anchor: a counter exposed over the worker's port with Comlink's own Node adapter. */
const { parentPort } = require('node:worker_threads');
const Comlink = require('comlink');
const nodeEndpoint = require('comlink/dist/umd/node-adapter');

let count = 0;
Comlink.expose(
  {
    increment() {
      return ++count;
    },
  },
  nodeEndpoint(parentPort),
);
