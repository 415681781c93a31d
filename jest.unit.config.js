/**
 * `npm run test:unit`: the fast loop. Decisions, parsers, configuration, the fake CDF and static checks; no
 * Temporal server, no Python, no workflow bundle.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  globalSetup: undefined,
  testMatch: [
    '<rootDir>/test/unit/**/*.test.ts',
    '<rootDir>/test/toolkit/**/*.test.ts',
    '<rootDir>/test/fake-cdf/**/*.test.ts',
    '<rootDir>/test/static/**/*.test.ts',
    '<rootDir>/test/client/cli-format.test.ts',
  ],
};
