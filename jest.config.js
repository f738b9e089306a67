// Fast suites only (unit + integration against a real Redis). Slow suites have their own configs.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@cloakroom/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^@cloakroom/authorization-server/([a-z-]+)$': '<rootDir>/apps/authorization-server/src/$1.ts',
    '^@cloakroom/([a-z-]+)/([a-z-]+)$': '<rootDir>/libs/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs}/*/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.slow\\.spec\\.ts$', '\\.faults\\.spec\\.ts$'],
  testTimeout: 20000,
};
