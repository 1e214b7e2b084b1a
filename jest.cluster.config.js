// Integration suite against a real control plane (kube-apiserver, controllers,
// scheduler) with kwok nodes; run through `npm run test:cluster`.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }],
  },
  // example/main.ts imports the compiled library (../lib/src); point it at the
  // sources so the suite checks what src/ renders now, built or not.
  moduleNameMapper: {
    '^\\.\\./lib/src$': '<rootDir>/src',
  },
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  // One control plane serves every file, and node-loss timings must not
  // compete with other files for the two CPUs.
  maxWorkers: 1,
  testTimeout: 15 * 60 * 1000,
  slowTestThreshold: 120,
  verbose: true,
};
