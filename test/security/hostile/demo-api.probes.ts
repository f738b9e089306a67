import { AS_USERINFO } from './authorization-server.probes.js';
import type { Probe, ProbeGenerator } from './hostile.probe.js';

// The demo API's probes: forged, altered and foreign bearer tokens; without a demo API they go to the
// authorization server's userinfo endpoint instead.

export const DEMO_API_BEARER: ProbeGenerator = (g, m) => {
  if (!m.demo) return AS_USERINFO(g, m);
  const control = g.chance(0.05);
  const bearer = control
    ? m.jwt
    : g.pick([
        () => g.pick(m.forgedBearers),
        () => m.jwt.slice(0, g.range(0, m.jwt.length - 1)),
        () => `${m.jwt}${g.b64url(g.range(1, 12_000))}`,
        () => g.b64url(g.pick([16, 43, 64, 200])),
        () => m.opaque,
        () => m.opaque.slice(0, -2),
        () => m.refresh,
        () => m.idToken,
        () => g.headerText(g.range(0, 200)),
      ])();
  const scheme = control ? 0 : g.int(6);
  const headers: Record<string, string> = {};
  if (scheme < 4) headers.authorization = `Bearer ${bearer}`;
  else if (scheme === 4)
    headers.authorization = g.pick([
      `bearer  ${bearer}`,
      'Bearer',
      `Basic ${bearer}`,
      `Bearer ${bearer}, Bearer ${bearer}`,
    ]);
  const path = control
    ? '/api/whoami'
    : g.pick([
        '/api/whoami',
        '/api/whoami',
        '/api/orders',
        `/api/orders/${encodeURIComponent(g.value()).slice(0, 200)}`,
      ]);
  const method = control ? 'GET' : g.pick(['GET', 'GET', 'POST', 'DELETE']);
  const json =
    method === 'POST'
      ? g.pick([
          JSON.stringify({ item: g.value(), quantity: g.range(-5, 1e9) }),
          '{"item":',
          g.bytes(g.range(0, 300)).toString('latin1'),
        ])
      : undefined;
  return {
    target: 'demo API (bearer tokens)',
    origin: 'demo',
    method,
    path,
    headers: json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: json,
    // Only alice's own token gets in; a forged, altered or foreign token never answers 2xx.
    expect: control ? [200] : [400, 401, 403, 404, 413, 431],
    note: `${method} ${path.slice(0, 40)} scheme=${scheme}${control ? ' (control)' : ''}`,
  };
};

/**
 * A defect the generator found at the resource server, fixed since (1ed7045): a JWT with an empty segment
 * (`header.payload.`, alg none) was not taken for a JWT by its `auto` mode, went to introspection, which refuses
 * JWT-shaped tokens with 400, and every non-2xx introspection answer became 503
 * (the JWT-shape check, isJwtShaped in libs/token-budget now, and libs/resource-server/src/token-verifier.ts introspect).
 */
export function demoApiDefect(p: Probe, status: string): string | undefined {
  if (p.origin !== 'demo' || status !== '503') return undefined;
  const token = /^bearer\s+(\S*)$/i.exec(p.headers.authorization ?? '')?.[1] ?? '';
  const parts = token.split('.');
  return parts.length === 3 && parts.some((part) => part === '') ? 'rs-unsigned-jwt-503' : undefined;
}
