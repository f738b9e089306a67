import type { ClientMetadata } from 'oidc-provider';
import { ConfigFileInvalid } from '@cloakroom/config';
import type { UserEntry } from './accounts/index.js';
import type { AuthorizationServerConfig } from './authorization-server.config.js';
import { loadClients } from './clients/index.js';
import type { ClientPolicy } from './clients/index.js';
import { demoConfigRefusals } from './demo-config.guard.js';
import { resolveSigningKeys } from './keys/index.js';
import type { SigningKeys } from './keys/index.js';
import { loadResources } from './oidc/resources.js';
import type { ResourceServerDefinition } from './oidc/resources.js';
import { loadUsers } from './accounts/users.file.js';

/** Everything the server serves from files: users, clients, resource servers, signing keys. */
export interface Directory {
  users: UserEntry[];
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
  resources: Map<string, ResourceServerDefinition>;
  keys: SigningKeys;
}

/**
 * Reads and checks every file, and in production refuses the public demo's: either the directory, or every
 * problem of every file at once (`USERS_FILE config/users.yaml: users.bob.emial: unknown field`).
 */
export async function readDirectory(
  config: AuthorizationServerConfig,
  env: Record<string, string | undefined>,
  production: boolean,
): Promise<{ directory?: Directory; problems: string[] }> {
  const problems: string[] = [];
  /** A file's content, or undefined with its problems listed under its setting. */
  const load = async <T>(setting: string, read: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof ConfigFileInvalid)) throw error;
      problems.push(...error.problems.map((line) => `${setting} ${error.path}: ${line}`));
      return undefined;
    }
  };

  const users = await load('USERS_FILE', () => loadUsers(config.USERS_FILE));
  const clients = await load('CLIENTS_FILE', () => loadClients(config.CLIENTS_FILE, { env, production }));
  const resources = await load('RESOURCES_FILE', () => loadResources(config.RESOURCES_FILE));
  let keys: SigningKeys | undefined;
  try {
    // Production without JWKS_FILE is already among the settings' problems.
    if (!production || config.JWKS_FILE)
      keys = await load('JWKS_FILE', () => resolveSigningKeys({ path: config.JWKS_FILE, production }));
  } catch (error) {
    if ((error as Error).name === 'SigningKeysMissing')
      problems.push(`JWKS_FILE: ${(error as Error).message}`);
    else throw error;
  }
  if (production) {
    problems.push(
      ...(await demoConfigRefusals({
        files: [
          { setting: 'USERS_FILE', kind: 'users', path: config.USERS_FILE },
          { setting: 'CLIENTS_FILE', kind: 'clients', path: config.CLIENTS_FILE },
          { setting: 'RESOURCES_FILE', kind: 'resources', path: config.RESOURCES_FILE },
        ],
        users,
        clients: clients?.clients,
      })),
    );
  }
  if (problems.length > 0 || !users || !clients || !resources || !keys) {
    return { problems };
  }
  return {
    problems,
    directory: {
      users,
      clients: clients.clients,
      policies: clients.policies,
      resources,
      keys,
    },
  };
}
