import { afterAll, expect, test } from 'vitest';
import { shutdown } from 'safethread';
import { expected, explained, scenario } from './work';

afterAll(() => shutdown());

test('safethread runs tasks, monitors and actors on other threads', async () => {
  // A failure shows every child's error (a BranchError's .errors), not just the branch's message.
  const result = await scenario().catch((error: unknown) => {
    throw explained(error);
  });
  expect(result).toEqual(expected);
});
