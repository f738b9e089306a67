import { describe, expect, it } from '@jest/globals';
import { returnToPath } from './return-to.js';

const ORIGIN = 'https://gateway.test';

/** Where a browser ends up when it follows `Location: <path>` from the gateway. */
const landing = (path: string) => new URL(path, ORIGIN).origin;

describe('returnToPath', () => {
  it('keeps same-site paths with their query and fragment, normalised', () => {
    expect(returnToPath('/orders?id=1#top')).toBe('/orders?id=1#top');
    expect(returnToPath('/a/../b')).toBe('/b');
    expect(returnToPath('/search?q=a%2Fb&next=//x')).toBe('/search?q=a%2Fb&next=//x');
    expect(returnToPath('/%252f%252fevil.example')).toBe('/%252f%252fevil.example');
  });

  it('falls back to / when there is nothing to return to', () => {
    expect(returnToPath(undefined)).toBe('/');
    expect(returnToPath('')).toBe('/');
    expect(returnToPath(['/a', '/b'])).toBe('/');
    expect(returnToPath({ x: '/a' })).toBe('/');
    expect(returnToPath(`/${'x'.repeat(3000)}`)).toBe('/');
  });

  // Decoded values, as they arrive from the query string.
  const hostile = [
    // Dot segments that normalise to `//host`: the raw value starts with a single slash.
    '/.//evil.example',
    '/..//evil.example',
    '/%2e//evil.example',
    '/%2E%2E//evil.example',
    '/.%2e//evil.example',
    '/a/..//evil.example',
    '/a/%2e%2e//evil.example',
    '/%2e%2e/%2e%2e//evil.example',
    '/./%2e//evil.example',
    // Encoded separators, once and twice.
    '/%2f%2fevil.example',
    '/%2F/evil.example',
    '/%5c/evil.example',
    '/%5C%5Cevil.example',
    '%2f%2fevil.example',
    '%252f%252fevil.example',
    // Backslashes, which browsers read as slashes.
    '/\\evil.example',
    '\\/evil.example',
    '\\\\evil.example',
    '/\\/evil.example',
    // Tabs and newlines, which URL parsers drop.
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '\t//evil.example',
    '/a\nb',
    // Other origins and schemes.
    '//evil.example',
    '///evil.example',
    'https://evil.example',
    'https:evil.example',
    'https:/evil.example',
    'javascript:alert(1)',
    'evil.example',
    ' /orders',
  ];

  it.each(hostile.map((value) => [JSON.stringify(value), value]))(
    'sends %s back to / on the gateway',
    (_, value) => {
      const path = returnToPath(value);
      expect(path).toBe('/');
      expect(landing(path)).toBe(ORIGIN);
    },
  );
});
