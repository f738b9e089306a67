import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { demoPagePolicy, renderDemoPage } from './demo-page.html.js';

const page = renderDemoPage({
  store: 'Redis',
  storeState: 'available',
  who: 'Checking the session…',
  routes: '/api /directory',
});

describe('the demo page', () => {
  it('allows its one inline script by hash, and nothing inline besides its style', () => {
    const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0]).digest('base64');
    const policy = demoPagePolicy('https://id.example');
    expect(policy).toContain(`script-src 'sha256-${hash}';`);
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    // No handler in the markup: it would need 'unsafe-inline' (or 'unsafe-hashes') to run.
    expect(page).not.toMatch(/<[^>]+\son[a-z]+=/i);
  });

  it('frames only the gateway and the sign-in server, for the silent sign-in, and is framed by nobody', () => {
    const policy = demoPagePolicy('https://id.example');
    const directives = Object.fromEntries(
      policy
        .split('; ')
        .map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': expect.stringMatching(/^'sha256-[A-Za-z0-9+/]{43}='$/),
      'style-src': "'unsafe-inline'",
      'connect-src': "'self'",
      'frame-src': "'self' https://id.example",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
    });
  });

  it('fills in its values and leaves no placeholder', () => {
    expect(page).toContain('<body data-store="available" data-routes="/api /directory">');
    expect(page).toContain('<td>Redis, encrypted</td>');
    expect(page).not.toContain('{{');
  });
});
