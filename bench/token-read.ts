import { branch, CancellationSource, currentToken, type CancellationToken } from '../lib';
import type { Comparison } from './comparison';

/**
 * The cost of checking for cancellation in a tight CPU loop: `token.cancelled` (one atomic load
 * of the token's shared memory) against reading a plain boolean, and against `signal.aborted`,
 * the platform's equivalent. One operation is one loop iteration: the check and a one-line body
 * (an integer accumulation whose result is kept, so the loop cannot be dropped).
 *
 * A JIT may hoist a read out of a loop when nothing in the loop can change what it reads, which
 * for a boolean in single-threaded JavaScript is always the case. So every checked case reads one
 * of two holders (two booleans in an array, two live tokens, two signals), picked by `i & 1`: the
 * read depends on the loop counter and cannot be hoisted, and all three pay the same indexing.
 * The usual `while (!token.cancelled)` on one token (an atomic load is never hoisted anyway),
 * the loop with no check at all, and `currentToken().cancelled` looked up at every iteration
 * are shown for context. Nothing is ever cancelled: every loop runs its full count.
 */

const NO_CHECK = 'no check (loop body alone)';
const BOOLEAN = 'plain boolean: flags[i & 1]';
const TOKEN = 'token.cancelled: tokens[i & 1].cancelled';
const SIGNAL = 'signal.aborted: signals[i & 1].aborted';
const ONE_TOKEN = 'token.cancelled on one token (the usual loop)';
const CURRENT_TOKEN = 'currentToken().cancelled at every iteration';

// One function per case, so that each is optimised for its own reads only.

function loopWithoutCheck(iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum = (sum + (i & 0xff)) | 0;
  return sum;
}

function loopOnBooleans(flags: readonly boolean[], iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    if (flags[i & 1]) break;
    sum = (sum + (i & 0xff)) | 0;
  }
  return sum;
}

function loopOnTokens(tokens: readonly CancellationToken[], iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    if (tokens[i & 1].cancelled) break;
    sum = (sum + (i & 0xff)) | 0;
  }
  return sum;
}

function loopOnSignals(signals: readonly AbortSignal[], iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    if (signals[i & 1].aborted) break;
    sum = (sum + (i & 0xff)) | 0;
  }
  return sum;
}

function loopOnOneToken(token: CancellationToken, iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    if (token.cancelled) break;
    sum = (sum + (i & 0xff)) | 0;
  }
  return sum;
}

function loopOnCurrentToken(iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    if (currentToken().cancelled) break;
    sum = (sum + (i & 0xff)) | 0;
  }
  return sum;
}

export function tokenRead(): Comparison {
  // Mutable on purpose: any other code could set one, as far as the JIT can tell.
  const flags: boolean[] = [false, false];
  const sources = [new CancellationSource(), new CancellationSource()];
  const tokens = sources.map((source) => source.token);
  const controllers = [new AbortController(), new AbortController()];
  const signals = controllers.map((controller) => controller.signal);
  // Keeps every loop's result observable; each case adds its own full count, so it must reach `expected`.
  let sink = 0;
  let expected = 0;
  const add = (sum: number, iterations: number): void => {
    sink = (sink + sum) | 0;
    expected = (expected + loopWithoutCheckReference(iterations)) | 0;
  };

  return {
    name: 'token-read',
    summary: 'cost per loop iteration of checking for cancellation: a live token\'s `cancelled` vs a plain boolean vs `signal.aborted` (each read picked by `i & 1`, so it cannot be hoisted)',
    anchor: BOOLEAN,
    cases: [
      { name: NO_CHECK, run: (iterations) => add(loopWithoutCheck(iterations), iterations) },
      { name: BOOLEAN, run: (iterations) => add(loopOnBooleans(flags, iterations), iterations) },
      { name: TOKEN, run: (iterations) => add(loopOnTokens(tokens, iterations), iterations) },
      { name: SIGNAL, run: (iterations) => add(loopOnSignals(signals, iterations), iterations) },
      { name: ONE_TOKEN, run: (iterations) => add(loopOnOneToken(tokens[0], iterations), iterations) },
      {
        name: CURRENT_TOKEN,
        // In a local child, so that `currentToken()` finds a real (live) token: the child's.
        run: async (iterations) => {
          const [sum] = await branch<number>((children) => void children.addLocal(() => loopOnCurrentToken(iterations)));
          add(sum, iterations);
        },
      },
    ],
    tearDown: () => {
      if (flags.some((flag) => flag) || tokens.some((token) => token.cancelled) || signals.some((signal) => signal.aborted)) {
        throw new Error('token-read: something was cancelled; the loops stopped early');
      }
      if (sink !== expected) throw new Error('token-read: a loop stopped before its count');
    },
  };
}

/**
 * The sum every loop computes over `iterations` when it runs to the end, in closed form: 256 steps
 * of `i & 0xff` add 32640, so no loop needs to run twice to be checked.
 */
function loopWithoutCheckReference(iterations: number): number {
  const fullCycles = Math.floor(iterations / 256);
  const rest = iterations % 256;
  // Wraps like the loops' `| 0` does: modulo 2^32, as a signed 32-bit integer.
  const total = BigInt(fullCycles) * 32640n + BigInt((rest * (rest - 1)) / 2);
  return Number(BigInt.asIntN(32, total));
}
