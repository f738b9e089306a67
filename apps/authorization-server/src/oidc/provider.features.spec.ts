import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@cloakroom/config';
import { AuthorizationServerConfig } from '../authorization-server.config.js';
import { providerFeatures } from './provider.features.js';

describe(providerFeatures.name, () => {
  const features = providerFeatures({
    config: loadConfig(AuthorizationServerConfig, {}),
    policies: new Map(),
    resources: new Map(),
    signing: { alg: 'RS256', kid: 'k1' },
  }) as Record<string, { enabled: boolean }>;

  it("sets every one of oidc-provider's features, none left to its default", async () => {
    // oidc-provider's own list of features with their defaults (an internal module: no published types).
    const path = 'oidc-provider/lib/helpers/defaults.js';
    const { defaults } = (await import(path)) as { defaults: { features: Record<string, unknown> } };
    const known = Object.keys(defaults.features).sort();
    expect(Object.keys(features).sort()).toEqual(known);
    for (const [name, feature] of Object.entries(features)) {
      expect({ name, enabled: typeof feature.enabled }).toEqual({ name, enabled: 'boolean' });
    }
  });

  it('turns on exactly the features this server serves', () => {
    const enabled = Object.entries(features)
      .filter(([, f]) => f.enabled)
      .map(([name]) => name)
      .sort();
    expect(enabled).toEqual([
      'backchannelLogout',
      'clientCredentials',
      'dPoP',
      'introspection',
      'pushedAuthorizationRequests',
      'resourceIndicators',
      'revocation',
      'rpInitiatedLogout',
      'userinfo',
    ]);
  });
});
