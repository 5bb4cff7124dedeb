/**
 * Three tiers (README "Running the tests"):
 * - unit: no servers and no global setup, so `npm run test:unit` runs on a bare machine;
 * - integration: a module's facade and repositories against real MySQL and Redis, booted without
 *   HTTP (test/support/modules.ts);
 * - e2e: the whole app over HTTP (inject or sockets), several instances, the built server, deploy.
 * Jest runs a project's globalSetup only when one of that project's tests is selected, and one
 * path shared by two projects runs once.
 */
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    // Type errors are caught by `tsc --noEmit` in lint; tests only transpile, which is much faster.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
    // jose 6 ships ES modules only. Node 20.19+ loads them with require(), Jest's own module
    // loader does not (before Node 24.9), so Jest transpiles that one package to CommonJS.
    '^.+/node_modules/jose/.+\\.js$': [
      'ts-jest',
      { tsconfig: 'tsconfig.jest.json', diagnostics: false, useESM: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
};

const withServers = {
  ...shared,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // Also raises these tiers' test timeout: Jest reads testTimeout from the global config only.
  setupFiles: ['<rootDir>/test/setup/test-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  slowTestThreshold: 30,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/setup/unit-env.ts'],
    },
    {
      ...withServers,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...withServers,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.spec.ts', '<rootDir>/test/deploy/**/*.spec.ts'],
    },
  ],
};
