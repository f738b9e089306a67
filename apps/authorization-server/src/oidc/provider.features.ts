import { errors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AuthorizationServerConfig } from '../authorization-server.config.js';
import type { ClientPolicy } from '../clients/index.js';
import { loggedOutPage, logoutPage } from '../interactions/pages.js';
import type { ResourceServerDefinition } from './resources.js';

type Features = NonNullable<Configuration['features']>;

/** Algorithms a DPoP proof may be signed with (the resource-server library accepts at least these). */
export const DPOP_SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519'] as const;

export interface FeatureParts {
  config: AuthorizationServerConfig;
  policies: Map<string, ClientPolicy>;
  resources: Map<string, ResourceServerDefinition>;
  /** The key that signs access tokens. */
  signing: { alg: string; kid: string };
}

/**
 * Every oidc-provider feature, each set on purpose: a provider upgrade that turns on a new default does not
 * reach discovery unnoticed (provider.features.spec.ts compares this list with oidc-provider's own).
 */
export function providerFeatures({ config, policies, resources, signing }: FeatureParts): Features {
  /** Client ids allowed to introspect the tokens of each audience: the resource server's own clients. */
  const introspectorsByAudience = new Map(
    [...resources.values()].map((r) => [r.audience ?? r.indicator, new Set(r.introspectionClients)]),
  );

  return {
    // Our own login, consent and logout pages; the built-in ones are for development only.
    devInteractions: { enabled: false },
    // Sender-constrained tokens (RFC 9449): a stolen DPoP-bound token is useless without the client's key. The
    // resource-server library enforces the binding; no server nonce (proofs are bounded by iat and jti instead).
    dPoP: { enabled: true, allowReplay: false, requireNonce: () => false },
    // Tells the gateway that a session ended, so it drops its cached token set.
    backchannelLogout: { enabled: true },
    // No decoupled (CIBA) authentication device in this deployment.
    ciba: { enabled: false },
    // No TLS client certificates reach the server (TLS ends at the proxy).
    mTLS: { enabled: false },
    // Draft specification; no client attestation service.
    attestClientAuth: { enabled: false },
    // Clients are registered in the clients file, never fetched from a URL the caller names.
    clientIdMetadataDocument: { enabled: false },
    // The claims each scope releases are fixed; callers may not pick individual claims.
    claimsParameter: { enabled: false },
    // Service-to-service tokens for confidential clients whose policy allows the grant.
    clientCredentials: { enabled: true },
    // No input-constrained devices.
    deviceFlow: { enabled: false },
    // Tokens are signed, not encrypted; transport is TLS.
    encryption: { enabled: false },
    // No FAPI profile is claimed.
    fapi: { enabled: false },
    // Clients end the user's session through our own confirmation page.
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = logoutPage(config.APP_NAME, ctx.oidc.client?.clientName, form);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = loggedOutPage(config.APP_NAME, ctx.oidc.client?.clientName);
      },
    },
    // Opaque tokens are checked by their resource server (RFC 7662).
    introspection: {
      enabled: true as false, // the published types lag behind: introspection is a supported feature
      // The issuing client may look at its own token; a resource server's own client at tokens for its
      // audience. Any other client, even one that may request tokens for that resource, learns nothing.
      async allowedPolicy(_ctx: KoaContextWithOIDC, client, token) {
        if (token.clientId === client.clientId) return true;
        if (client.clientAuthMethod === 'none') return false;
        const audiences = ([] as unknown[]).concat((token as { aud?: unknown }).aud ?? []);
        return audiences.some(
          (aud) => typeof aud === 'string' && introspectorsByAudience.get(aud)?.has(client.clientId) === true,
        );
      },
    },
    // Introspection answers are plain JSON; no resource server asks for signed ones.
    jwtIntrospection: { enabled: false },
    // Responses go back in the query; JARM adds nothing our clients verify.
    jwtResponseModes: { enabled: false },
    // Confidential clients may push their authorization parameters (RFC 9126) so they never travel through
    // the browser; not required, and only to registered redirect URIs.
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: false,
      allowUnregisteredRedirectUris: false,
    },
    // Clients come from the clients file only: no dynamic registration, nor its management.
    registration: { enabled: false },
    registrationManagement: { enabled: false },
    // Scopes are enough for our APIs.
    richAuthorizationRequests: { enabled: false },
    // One token per API (RFC 8707), shaped by the resources file and the client's policy.
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, indicator, client) {
        const resource = resources.get(indicator);
        const policy = policies.get(client.clientId);
        if (!resource || (policy && !policy.resources.includes(indicator))) {
          throw new errors.InvalidTarget('this client may not request tokens for that resource');
        }
        const allowed = policy?.scopes;
        return {
          scope: resource.scopes.filter((s) => !allowed || allowed.includes(s)).join(' '),
          audience: resource.audience ?? resource.indicator,
          accessTokenTTL: resource.accessTokenTTL ?? config.ACCESS_TOKEN_TTL_SECONDS,
          accessTokenFormat: resource.accessTokenFormat,
          ...(resource.accessTokenFormat === 'jwt'
            ? { jwt: { sign: { alg: signing.alg as 'RS256', kid: signing.kid } } }
            : {}),
        };
      },
    },
    // Request objects (JAR) are refused: PAR already keeps parameters off the front channel.
    requestObjects: { enabled: false },
    // Clients do not choose among several registered metadata values.
    rpMetadataChoices: { enabled: false },
    // Clients revoke their tokens at logout (RFC 7009).
    revocation: {
      enabled: true,
      // A client revokes only its own tokens (RFC 7009 §2.1).
      allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
    },
    // The gateway reads the profile and the groups there.
    userinfo: { enabled: true },
    // Userinfo answers are plain JSON.
    jwtUserinfo: { enabled: false },
    // No web-message response mode (draft; popups are not used).
    webMessageResponseMode: { enabled: false },
    // Keys are local JWKs; no external signer (HSM, KMS).
    externalSigningSupport: { enabled: false },
    // No verifiable credentials are issued.
    openid4vci: { enabled: false },
  };
}
