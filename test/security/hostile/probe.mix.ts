import {
  AS_AUTHORIZE,
  AS_END_SESSION,
  AS_INTERACTION,
  AS_INTROSPECTION,
  AS_TOKEN,
  AS_USERINFO,
  authorizationServerDefect,
} from './authorization-server.probes.js';
import { DEMO_API_BEARER, demoApiDefect } from './demo-api.probes.js';
import {
  GATEWAY_API,
  GATEWAY_BACKCHANNEL,
  GATEWAY_CALLBACK,
  GATEWAY_LOGIN,
  GATEWAY_LOGOUT,
  GATEWAY_SESSION,
} from './gateway.probes.js';
import type { Material } from './hostile.material.js';
import { NO_HEADERS } from './hostile.probe.js';
import type { Probe, ProbeGenerator } from './hostile.probe.js';
import { SeededGenerator } from './seeded.generator.js';

// The mix of targets: which probe input number n of a seed is. Changing a weight, the order of the targets or
// what a generator draws changes every seed's inputs (and the README's reproduction line with them).

const ANY_PATH: ProbeGenerator = (g) => {
  const origin = g.pick(['gateway', 'as'] as const);
  const path = g.pick([
    () => `/${encodeURIComponent(g.value()).slice(0, 500)}`,
    () =>
      g.pick([
        '/%',
        '/%zz',
        '/..%2f..%2fetc%2fpasswd',
        '/.well-known/../auth',
        '/auth/%2e%2e/metrics',
        '//auth',
        '/auth/callback/..',
        '/jwks?x[]=1',
        '/.well-known/openid-configuration?' + 'a=1&'.repeat(500),
      ]),
    () => `/${'a/'.repeat(g.range(100, 2000))}`,
    () => `/${g.oddEncoding()}`,
  ])();
  return {
    target: 'any path (both servers)',
    origin,
    method: g.pick(['GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE']),
    path,
    headers: g.chance(0.2)
      ? {
          'x-forwarded-for': g.headerText(30),
          'x-forwarded-host': 'evil.example',
          host: g.pick(['evil.example', '']),
        }
      : NO_HEADERS,
    note: `${origin} path`,
  };
};

/** Targets and their weights (per mille) in the mix. */
export const TARGETS: Array<[ProbeGenerator, number]> = [
  [GATEWAY_API, 230],
  [GATEWAY_SESSION, 70],
  [GATEWAY_CALLBACK, 70],
  [GATEWAY_LOGIN, 50],
  [GATEWAY_LOGOUT, 50],
  [GATEWAY_BACKCHANNEL, 110],
  [AS_AUTHORIZE, 100],
  [AS_TOKEN, 110],
  [AS_INTROSPECTION, 50],
  [AS_USERINFO, 60],
  [AS_INTERACTION, 50],
  [AS_END_SESSION, 30],
  [DEMO_API_BEARER, 60],
  [ANY_PATH, 20],
];
const WEIGHT_TOTAL = TARGETS.reduce((sum, [, w]) => sum + w, 0);

/** The probe number `index` of the run with `seed`. */
export function probe(seed: number, index: number, material: Material): Probe {
  const g = new SeededGenerator(seed, index);
  let ticket = g.int(WEIGHT_TOTAL);
  for (const [generate, weight] of TARGETS) {
    if (ticket < weight) return generate(g, material);
    ticket -= weight;
  }
  return TARGETS[0][0](g, material);
}

/**
 * The known defect a failure belongs to, if it has the shape of one (see each target's module). Every failure
 * still fails the run; the label says at once that it is a regression.
 */
export function knownDefect(p: Probe, status: string): string | undefined {
  if (p.origin === 'demo') return demoApiDefect(p, status);
  if (p.origin === 'as') return authorizationServerDefect(p, status);
  return undefined;
}
