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
  // A fresh process for every spec file. V8 (Node 20) stops running every FinalizationRegistry
  // callback of a process for good when a registry that had callbacks due is collected before
  // they ran: its cleanup task then finds nothing to do and never clears its "posted" flag. Each
  // spec file's runtime (and its registries) is collected after the file, so one file could
  // leave the specs after it in the same process with no finalizers, and the specs that wait for
  // the collector to release a reference (monitor/release, channel/channel-release) then failed.
  workerIdleMemoryLimit: '1MB',
  projects: [
    project('standard', 'tsconfig.json'),
    project('legacy', 'tsconfig.legacy.json'),
    project('legacy+metadata', 'tsconfig.legacy-metadata.json', ['reflect-metadata']),
  ],
};
