/**
 * Two projects: fast pure unit tests, and integration tests against the local AWS (started by the
 * global setup when nothing answers). Type checking is `npm run build`'s job, so tests only
 * transpile (isolatedModules), which keeps them fast.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];
const common = { testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Records every AWS call; the global teardown checks each against the synthesized IAM roles.
      setupFiles: ['<rootDir>/test/support/iam/record-setup.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
