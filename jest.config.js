/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/data/'],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  setupFiles: ['<rootDir>/test/setup-runtime.ts'],
  // Each file creates and shuts down Temporal workers, native runtimes and servers; a Jest worker process that
  // grew past this after a file is replaced, so files do not share a long-lived native heap (a SIGSEGV in the
  // SDK's native core was seen once in a process that had run twenty files).
  workerIdleMemoryLimit: '300MB',
};
