import { describe, expect, it } from '@jest/globals';
import { safeReturnTo } from './auth.service.js';

describe('safeReturnTo', () => {
  it('keeps same-site relative paths with their query and fragment', () => {
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo('/orders?id=1#top')).toBe('/orders?id=1#top');
    expect(safeReturnTo('/a/../b')).toBe('/b');
  });

  it('refuses anything that could leave the site', () => {
    for (const value of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'evil',
      '/\t/evil.example',
      '/a\nb',
      ['/'],
      'x'.repeat(3000),
    ]) {
      expect(safeReturnTo(value)).toBeUndefined();
    }
  });
});
