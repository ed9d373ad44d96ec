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
  projects: [
    project('standard', 'tsconfig.json'),
    project('legacy', 'tsconfig.legacy.json'),
    project('legacy+metadata', 'tsconfig.legacy-metadata.json', ['reflect-metadata']),
  ],
};
