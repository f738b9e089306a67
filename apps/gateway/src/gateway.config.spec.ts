import { describe, expect, it } from '@jest/globals';
import { ConfigInvalid, settingsOf } from '@cloakroom/config';
import { GatewayConfig, loadGatewayConfig } from './gateway.config.js';
import { SessionCookies } from '@cloakroom/bff';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadGatewayConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.problems;
    throw error;
  }
}

describe(GatewayConfig.name, () => {
  it('has working defaults for local development, every setting documented', () => {
    const config = loadGatewayConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.ISSUER_URL).toBe('http://localhost:3000');
    expect(config.callbackUrl).toBe('http://localhost:8080/auth/callback');
    expect(config.allowedOrigins).toEqual(['http://localhost:8080']);
    expect(config.routes).toEqual([{ prefix: '/api', upstream: new URL('http://localhost:4000') }]);
    expect(config.backend).toBe('memory');
    const documented = settingsOf(GatewayConfig).map((s) => s.name);
    for (const name of ['ISSUER_URL', 'GATEWAY_ROUTES', 'GATEWAY_COOKIE_INSECURE_DEV', 'REDIS_URL']) {
      expect(documented).toContain(name);
    }
  });

  it('converts numbers and booleans, and orders routes longest prefix first', () => {
    const config = loadGatewayConfig({
      PORT: '9000',
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_ROUTES: '/api=http://a:1,/api/admin=http://b:2/base',
      GATEWAY_ALLOWED_ORIGINS: 'https://app.example,https://admin.example',
    });
    expect(config.PORT).toBe(9000);
    expect(config.cookieSecure).toBe(false);
    expect(config.routes.map((r) => r.prefix)).toEqual(['/api/admin', '/api']);
    expect(config.allowedOrigins).toEqual(['https://app.example', 'https://admin.example']);
  });

  it('lists every bad setting at once', () => {
    const problems = problemsOf({ PORT: 'x', ISSUER_URL: 'ftp://nope', GATEWAY_ROUTES: 'api=4000' });
    expect(problems.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(problems.some((p) => p.startsWith('ISSUER_URL'))).toBe(true);
    expect(problems.some((p) => p.startsWith('GATEWAY_ROUTES'))).toBe(true);
    expect(problemsOf({ GATEWAY_ROUTES: '/auth=http://x' })[0]).toContain('/auth');
  });

  it('refuses development shortcuts in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      GATEWAY_COOKIE_INSECURE_DEV: 'true',
      GATEWAY_PUBLIC_URL: 'http://gateway.example',
    });
    expect(problems.join('\n')).toMatch(/GATEWAY_COOKIE_INSECURE_DEV/);
    expect(problems.join('\n')).toMatch(/GATEWAY_CLIENT_SECRET/);
    expect(problems.join('\n')).toMatch(/GATEWAY_PUBLIC_URL/);
    expect(problems.join('\n')).toMatch(/memory store/);
    expect(
      problemsOf({
        NODE_ENV: 'production',
        GATEWAY_CLIENT_SECRET: 'a-real-secret-value',
        GATEWAY_PUBLIC_URL: 'https://gateway.example',
        REDIS_URL: 'redis://redis:6379',
      }),
    ).toEqual([]);
  });
});

describe(SessionCookies.name, () => {
  it('sets a __Host- cookie: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain', () => {
    const cookies = new SessionCookies(true);
    const line = cookies.setSession('A'.repeat(43));
    expect(line).toBe(`__Host-cloakroom=${'A'.repeat(43)}; Path=/; HttpOnly; Secure; SameSite=Lax`);
    expect(cookies.clearSession()).toContain('Max-Age=0');
    expect(new SessionCookies(false).setSession('x')).toBe('cloakroom=x; Path=/; HttpOnly; SameSite=Lax');
  });

  it('finds one cookie in a header without being fooled by similar names', () => {
    const header = 'x__Host-cloakroom=evil; a=1; __Host-cloakroom-login=l; __Host-cloakroom=good; b=2';
    expect(SessionCookies.find(header, '__Host-cloakroom')).toBe('good');
    expect(SessionCookies.find(header, '__Host-cloakroom-login')).toBe('l');
    expect(SessionCookies.find('a=1', '__Host-cloakroom')).toBeUndefined();
    expect(SessionCookies.find(undefined, '__Host-cloakroom')).toBeUndefined();
  });
});
