import Provider from 'oidc-provider';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { sealedOidcAdapter } from '@cloakroom/oidc-adapter';
import type { SealedStore } from '@cloakroom/sealed-store';
import type { ShapedToken } from '@cloakroom/token-budget';
import type { AuthorizationServerConfig } from '../authorization-server.config.js';
import type { ClientPolicy } from '../clients/index.js';
import type { KeysInService } from '../keys/signing-key.ring.js';
import { errorPage } from '../interactions/pages.js';
import { DPOP_SIGNING_ALGORITHMS, providerFeatures } from './provider.features.js';
import { pinIssuerOrigin } from './provider.mount.js';
import type { ResourceClaims } from './resource-claims.js';
import type { ResourceServerDefinition } from './resources.js';

/** What the provider needs to know about a user. */
export interface AccountView {
  accountId: string;
  claims(scopes: string[]): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export interface AccountDirectory {
  findAccount(sub: string): Promise<AccountView | undefined> | AccountView | undefined;
}

export interface ProviderParts {
  config: AuthorizationServerConfig;
  store: SealedStore;
  accounts: AccountDirectory;
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
  resources: Map<string, ResourceServerDefinition>;
  /** The keys this instance publishes and signs with, for its whole life (see ProviderSwitch). */
  keys: KeysInService;
  /** The groups each API may see, and the shape of its tokens under its byte budget. */
  resourceClaims: ResourceClaims;
  /** Sees every JWT access token as shaped, before it is signed (the token size watch). */
  onJwtAccessToken?: (shaped: ShapedToken, audience: string, clientId: string | undefined) => void;
}

const CLAIMS = {
  openid: ['sub'],
  profile: [
    'name',
    'given_name',
    'family_name',
    'preferred_username',
    'picture',
    'locale',
    'zoneinfo',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  groups: ['groups'],
};

export function createProvider(parts: ProviderParts): Provider {
  const { config, resources, policies } = parts;
  const signing = { alg: parts.keys.signing.alg, kid: parts.keys.signing.kid };

  const scopes = ['openid', 'offline_access', ...Object.keys(CLAIMS).filter((s) => s !== 'openid')];
  // A client asks only for the scopes its policy lists: identity scopes through oidc-provider's own
  // `scope` metadata, API scopes when the resource server's token is shaped (getResourceServerInfo).
  const clients = parts.clients.map((client) => {
    const allowed = policies.get(String(client.client_id))?.scopes;
    return allowed
      ? { ...client, scope: allowed.filter((s) => scopes.includes(s)).join(' ') || 'openid' }
      : client;
  });

  // oidc-provider refuses outgoing requests to loopback and private addresses (SSRF protection). The
  // back-channel logout URIs of the clients file are the operator's own configuration, typically a gateway
  // on the internal network: those, and only those, are reached without that check.
  const trustedUris = new Set(
    parts.clients
      .map((c) => c.backchannel_logout_uri)
      .filter((uri): uri is string => typeof uri === 'string'),
  );
  const outgoingFetch = (url: URL | string, options: RequestInit & { dispatcher?: unknown }) => {
    if (!trustedUris.has(String(url))) return globalThis.fetch(url, options);
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  };

  const configuration: Configuration = {
    fetch: outgoingFetch as Configuration['fetch'],
    adapter: sealedOidcAdapter(parts.store, { defaultTtlSeconds: config.OIDC_STORE_DEFAULT_TTL_SECONDS }),
    clients,
    jwks: parts.keys.provider as Configuration['jwks'],
    cookies: { keys: config.cookieKeys },
    claims: CLAIMS,
    scopes,
    // The id token carries the profile but not the groups: it travels in logout URLs (id_token_hint).
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const account = await parts.accounts.findAccount(sub);
      if (!account) return undefined;
      return {
        accountId: account.accountId,
        async claims(use, scope) {
          const claims = await account.claims((scope ?? '').split(' ').filter(Boolean).concat('openid'));
          if (use === 'id_token') delete claims.groups;
          return { ...claims, sub: account.accountId };
        },
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Code flow only (no implicit or hybrid: tokens never travel in the front channel), and only the client
    // authentication methods the clients file can express.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    rotateRefreshToken: true,
    // OpenID Connect Core §11 ties offline_access to prompt=consent; a first-party client (consent implied, never
    // asked) is the "other condition" it allows: it keeps a refresh token on every login, prompt or not, and that
    // token ends with the user's session here unless offline_access was granted.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || policies.get(String(client.clientId))?.firstParty === true),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.ACCESS_TOKEN_TTL_SECONDS,
      ClientCredentials: (_ctx, token) =>
        token.resourceServer?.accessTokenTTL ?? config.ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: config.REFRESH_TOKEN_TTL_SECONDS,
      Session: config.SESSION_TTL_SECONDS,
      Grant: Math.max(config.SESSION_TTL_SECONDS, config.REFRESH_TOKEN_TTL_SECONDS),
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    },
    features: providerFeatures({ config, policies, resources, signing }),
    enabledJWA: { dPoPSigningAlgValues: DPOP_SIGNING_ALGORITHMS },
    async extraTokenClaims(_ctx, token) {
      if (!('accountId' in token) || !token.accountId) return undefined;
      return parts.resourceClaims.extraClaims(token.accountId as string, token.resourceServer?.audience);
    },
    formats: {
      customizers: {
        async jwt(_ctx, token, jwt) {
          const shaped = parts.resourceClaims.shape(jwt.payload as Record<string, unknown>, parts.keys);
          jwt.payload = shaped.payload as typeof jwt.payload;
          parts.onJwtAccessToken?.(shaped, String(jwt.payload.aud), token.clientId);
        },
      },
    },
    async renderError(ctx: KoaContextWithOIDC, out) {
      ctx.type = 'html';
      ctx.body = errorPage(config.APP_NAME, out.error, out.error_description);
    },
  };

  const provider = new Provider(config.ISSUER, configuration);
  provider.proxy = config.TRUST_PROXY;
  provider.use(pinIssuerOrigin(config.ISSUER));
  return provider;
}
