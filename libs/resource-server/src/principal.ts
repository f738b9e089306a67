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
}

export function principalFrom(
  claims: Record<string, unknown>,
  via: Principal['via'],
  tokenBytes: number,
): Principal {
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
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
  };
}
