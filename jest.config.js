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
};
