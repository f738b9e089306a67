/** A client of the authorization server, authenticating with client_secret_basic. */
export interface BasicClient {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

function post(client: BasicClient, path: string, form: Record<string, string>): Promise<Response> {
  const credentials = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  return fetch(`${client.issuer}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

/** RFC 7662: whether the authorization server still holds the token as active, asked by the client it was issued to. */
export async function isActive(client: BasicClient, token: string): Promise<boolean> {
  const response = await post(client, '/token/introspection', { token });
  if (response.status !== 200) throw new Error(`introspection answered ${response.status}`);
  return ((await response.json()) as { active: boolean }).active;
}

/** Redeems a refresh token: the status and the error code (`invalid_grant` …) or the new tokens. */
export async function redeemRefreshToken(
  client: BasicClient,
  refreshToken: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await post(client, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
