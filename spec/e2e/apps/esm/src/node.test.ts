import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expected, explained, scenario } from './work.js';

test('safethread runs tasks, monitors and actors on other threads', async () => {
  // A failure shows every child's error (a BranchError's .errors), not just the branch's message.
  const result = await scenario().catch((error: unknown) => {
    throw explained(error);
  });
  assert.deepEqual(result, expected);
});
