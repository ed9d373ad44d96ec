'use strict';
/** The piscina anchor's tasks; a pool picks one with its `name` option. */
const { spin } = require('./spin');

module.exports = {
  /** The trivial task: as little work as a counter's increment. */
  increment: (n) => n + 1,
  /** The CPU-bound task of the cpu-children bench. */
  spin: (iterations) => spin(iterations),
  /** What a child of the large-value bench does with the value: reads it. */
  lengthOf: (value) => value.length,
};
