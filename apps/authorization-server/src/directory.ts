import type { ClientMetadata, JWK } from 'oidc-provider';
import type { Logger } from 'pino';
import { loadConfig } from '@cloakroom/config';
import type { SealedStore } from '@cloakroom/sealed-store';
import { AccountStore, AccountsConfig } from './accounts/index.js';
import type { AuthorizationServerConfig } from './authorization-server.config.js';
import { loadClients } from './clients/index.js';
import type { ClientPolicy } from './clients/index.js';
import { resolveSigningKeys } from './keys/index.js';
import { loadResources } from './oidc/resources.js';
import type { ResourceServerDefinition } from './oidc/resources.js';

/** Everything the server serves from files: users, clients, resource servers, signing keys. */
export interface Directory {
  accounts: AccountStore;
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
  resources: Map<string, ResourceServerDefinition>;
  jwks: { keys: JWK[] };
}

export async function loadDirectory(
  config: AuthorizationServerConfig,
  env: Record<string, string | undefined>,
  store: SealedStore,
  production: boolean,
  logger: Logger,
): Promise<Directory> {
  const accountsConfig = loadConfig(AccountsConfig, env);
  const accounts = await AccountStore.load(config.USERS_FILE, { store, throttle: accountsConfig.throttle });
  const { clients, policies } = loadClients(config.CLIENTS_FILE, { env, production });
  const resources = loadResources(config.RESOURCES_FILE);
  const keys = await resolveSigningKeys({ path: config.JWKS_FILE, production });
  if (keys.generated) {
    logger.warn(
      'NO SIGNING KEYS CONFIGURED: using a key generated in memory; tokens stop verifying at restart',
    );
  }
  for (const warning of keys.warnings) logger.warn(warning);
  return { accounts, clients, policies, resources, jwks: keys.jwks as { keys: JWK[] } };
}
