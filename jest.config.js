// The same spec runs three times, once per way a user can set up decorators (see README).
const project = (displayName, tsconfig, extraSetupFiles = []) => ({
  displayName,
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: `<rootDir>/${tsconfig}` }] },
  setupFiles: ['<rootDir>/spec/helpers/setup.ts', ...extraSetupFiles],
});

/** @type {import('jest').Config} */
module.exports = {
  // The specs mostly wait on threads and subprocesses; jest's default (one fewer than the cores)
  // would run them one file at a time on a two-core machine.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  projects: [
    project('standard', 'tsconfig.json'),
    project('legacy', 'tsconfig.legacy.json'),
    project('legacy+metadata', 'tsconfig.legacy-metadata.json', ['reflect-metadata']),
  ],
};
