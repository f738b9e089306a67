/** Who is calling, as the token says, and how that was established. */
export interface Principal {
  sub: string | undefined;
  clientId: string | undefined;
  scopes: string[];
  groups: string[];
  /** All claims of the token (JWT payload or introspection answer). */
  claims: Record<string, unknown>;
  /** Size of the token received, in bytes. */
  tokenBytes: number;
  via: 'jwt' | 'introspection';
  /** Seconds since the epoch after which the token is no longer valid, when known. */
  exp?: number;
  /** Thumbprint of the DPoP key the token is bound to (`cnf.jkt`, RFC 9449 §6): it needs a proof with it. */
  jkt?: string;
}

export function principalFrom(
  claims: Record<string, unknown>,
  via: Principal['via'],
  tokenBytes: number,
): Principal {
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return {
    sub: typeof claims.sub === 'string' ? claims.sub : undefined,
    clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
    scopes: scope.split(' ').filter(Boolean),
    groups: Array.isArray(claims.groups)
      ? claims.groups.filter((g): g is string => typeof g === 'string')
      : [],
    claims,
    tokenBytes,
    via,
    exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    jkt: typeof cnf === 'object' && cnf !== null && typeof cnf.jkt === 'string' ? cnf.jkt : undefined,
  };
}
