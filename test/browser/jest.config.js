// Real Chromium and a real nginx in front of the stack: `npm run test:browser`, not part of `npm test`.
import base from '../../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  rootDir: '../..',
  // The demo page's own Chromium suite sits beside the gateway it drives.
  testMatch: ['<rootDir>/test/browser/**/*.spec.ts', '<rootDir>/apps/gateway/src/**/*.slow.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
};
