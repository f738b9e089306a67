import type { ClientMetadata, JWK } from 'oidc-provider';
import type { UserEntry } from './accounts/index.js';
import type { AuthorizationServerConfig } from './authorization-server.config.js';
import { checkClients } from './clients/index.js';
import type { ClientPolicy } from './clients/index.js';
import { demoConfigRefusals } from './demo-config.guard.js';
import { JwksFileInvalid, resolveSigningKeys } from './keys/index.js';
import type { SigningKeys } from './keys/index.js';
import { checkResources } from './oidc/resources.js';
import type { ResourceServerDefinition } from './oidc/resources.js';
import { checkUsersFile } from './accounts/users.file.js';

/** Everything the server serves from files: users, clients, resource servers, signing keys. */
export interface Directory {
  users: UserEntry[];
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
  resources: Map<string, ResourceServerDefinition>;
  keys: SigningKeys;
  jwks: { keys: JWK[] };
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
  const inFile = (setting: string, path: string, lines: string[]) =>
    problems.push(...lines.map((line) => `${setting} ${path}: ${line}`));

  const users = checkUsersFile(config.USERS_FILE);
  inFile('USERS_FILE', config.USERS_FILE, users.problems);
  const clients = checkClients(config.CLIENTS_FILE, { env, production });
  inFile('CLIENTS_FILE', config.CLIENTS_FILE, clients.problems);
  const resources = checkResources(config.RESOURCES_FILE);
  inFile('RESOURCES_FILE', config.RESOURCES_FILE, resources.problems);
  let keys: SigningKeys | undefined;
  try {
    // Production without JWKS_FILE is already among the settings' problems.
    if (!production || config.JWKS_FILE)
      keys = await resolveSigningKeys({ path: config.JWKS_FILE, production });
  } catch (error) {
    if (error instanceof JwksFileInvalid) inFile('JWKS_FILE', error.path, error.problems);
    else if ((error as Error).name === 'SigningKeysMissing')
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
        users: users.users,
        clients: clients.loaded?.clients,
      })),
    );
  }
  if (problems.length > 0 || !users.users || !clients.loaded || !resources.resources || !keys) {
    return { problems };
  }
  return {
    problems,
    directory: {
      users: users.users,
      clients: clients.loaded.clients,
      policies: clients.loaded.policies,
      resources: resources.resources,
      keys,
      jwks: keys.jwks as { keys: JWK[] },
    },
  };
}
