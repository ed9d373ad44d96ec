'use strict';
/**
 * The CPU-bound work of the cpu-children bench, in plain JavaScript so that the main thread,
 * safethread's task and piscina's worker all run the very same function: a xorshift generator
 * summed for `iterations` steps, integer arithmetic only, no allocation.
 */
function spin(iterations) {
  let x = 0x9e3779b9 | 0;
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sum = (sum + (x & 0xff)) | 0;
  }
  return sum;
}

module.exports = { spin };
