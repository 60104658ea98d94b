/**
 * Jest in ESM mode (the @actions/* packages are ESM-only); run through `npm test`, which sets
 * NODE_OPTIONS=--experimental-vm-modules. ts-jest only transpiles (tsconfig isolatedModules):
 * `npm run typecheck` is the type check.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '/dist/'],
  testTimeout: 120_000,
  // Integration tests start servers (moto, nginx, emulators) on loopback: keep workers few.
  maxWorkers: 2,
  // After the full run each worker holds about 3 GB (ESM modules per suite) and takes longer than
  // Jest's default 500 ms to exit on 2 cores: Jest then force-exits it and warns of an open-handle
  // leak that is not there (measured: the worker's 'exit' event fired within 1 ms of Jest's end
  // message, with no handle left). A real leak still shows, after this wait.
  workerGracefulExitTimeout: 10_000,
};
