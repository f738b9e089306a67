import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { TestBrowser } from './browser.js';

describe(TestBrowser.name, () => {
  // The benchmarks sign in with this browser from plain JavaScript: Node must load it with the types stripped.
  it('is loaded by the benchmarks in plain Node', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      `const { gatewaySession, tokenSet } = await import('./bench/gateway/sign-in.mjs');
       const { TestBrowser } = await import('./test/support/browser.ts');
       console.log(typeof gatewaySession, typeof tokenSet, typeof new TestBrowser().signIn);`,
    ]);
    expect(stdout.trim()).toBe('function function function');
  });
});
