import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { isTooOld, MINIMUM_NODE, tooOldMessage } from './node-version.js';

describe('node-version', () => {
  it.each([
    ['20.20.2', true],
    ['22.12.0', true],
    ['22.18.9', true],
    ['v22.18.0', true],
    ['22.19.0', false],
    ['22.20.1', false],
    ['23.0.0', false],
    ['24.11.1', false],
  ])('Node.js %s is too old: %s', (version, tooOld) => {
    expect(isTooOld(version)).toBe(tooOld);
  });

  it('names the version needed and the one running, in one sentence', () => {
    const message = tooOldMessage('The gateway', '22.12.0');
    expect(message).toBe(
      'The gateway needs Node.js 22.19.0 or newer (24 LTS recommended); this is Node.js 22.12.0.',
    );
    expect(message.split('\n')).toHaveLength(1);
  });

  it('is the minimum package.json declares', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    };
    expect(manifest.engines.node).toBe(`>=${MINIMUM_NODE}`);
  });
});
