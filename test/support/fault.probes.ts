import { RS } from './authorization-server.js';
import type { Stack } from './stack.js';

/** An API call through the gateway with a session cookie; redirects are answers, not followed. */
export function apiCall(stack: Stack, cookie: string): Promise<Response> {
  return fetch(`${stack.gatewayUrl}/api/orders`, {
    headers: { cookie },
    redirect: 'manual',
    signal: AbortSignal.timeout(3000),
  });
}

/** An introspection at the authorization server: every one reads the store. */
export function introspection(stack: Stack): Promise<Response> {
  return fetch(`${stack.asUrl}/token/introspection`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${RS.client_id}:${RS.client_secret}`).toString('base64')}`,
    },
    body: 'token=some-opaque-token-value',
    signal: AbortSignal.timeout(3000),
  });
}

/** The status of a probe, or the error's name when it got no answer (a timeout, a refused connection). */
export function statusOf(probe: Promise<Response>): Promise<number | string> {
  return probe.then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    (error: Error) => error.name,
  );
}
