import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientMetadata } from 'oidc-provider';
import { verifyPassword } from './accounts/password.hasher.js';
import type { UserEntry } from './accounts/users.file.js';

/**
 * SHA-256 fingerprints of what config/demo publishes: its files, its users' password hashes, its client
 * secrets. Production refuses them, even copied elsewhere: they are in every clone of the repository.
 * demo-config.guard.spec.ts checks them against config/demo, so they cannot drift apart.
 */
export const DEMO_FINGERPRINTS = {
  files: {
    users: '7f13f7d9f9c9f3376c8a5f686fcca682885107dc11bf37bd0b5b73e731dfee18',
    clients: 'fe87a1362deca15e13bccb3c0b724587d81ff02d7abcbc2faaa0e07a1fba236c',
    resources: 'e2842ba60a057d84b2a85981c8be627bce6597185ebb30433b97a634df5b0f4c',
  },
  passwordHashes: [
    'faaa0928232d4ec2d80750ee14331c1aabc846e210261faa4947afa9346cdfac',
    '7b582b6f66aa6f353c846e07f5343bff58a639d77d9fec2c4d348c0fc47e3d00',
    'ed14a3e6c417a9c02f195e8ce148f76ea863fa60ca40d0d099ab00ebf6b79916',
  ],
  clientSecrets: [
    'cacba47eeeab55d388d4a49678aa9e585431fba0ef6371ff7121014b8f4ffd6f',
    'f770e93771ea20c5dcbb1e2e79be7c27b6b05b42f6cc0a50f902151a187f472a',
  ],
} as const;

/** The demo's sign-ins, public in the README: a user re-hashed with one of them is still the demo's. */
const DEMO_PASSWORDS: Record<string, string> = {
  alice: 'wonderland',
  'power-user': 'many-groups',
  'group-collector': 'thousands-of-groups',
};

/** Where the repository keeps the demo (the same relative place in the source tree and in dist). */
export const DEMO_DIRECTORY = fileURLToPath(new URL('../../../config/demo', import.meta.url));

export const sha256 = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

export interface DemoCheckInput {
  files: { setting: string; kind: keyof typeof DEMO_FINGERPRINTS.files; path: string }[];
  users?: UserEntry[];
  clients?: ClientMetadata[];
}

/** Why production must not start on this configuration: demo files, demo password hashes, demo secrets. */
export async function demoConfigRefusals(input: DemoCheckInput): Promise<string[]> {
  const problems: string[] = [];
  for (const { setting, kind, path } of input.files) {
    if (isInsideDemo(path)) {
      problems.push(
        `${setting}: ${path} is the public demo's ${kind} file, refused in production; set ${setting}`,
      );
    } else if (fingerprintOf(path) === DEMO_FINGERPRINTS.files[kind]) {
      problems.push(`${setting}: ${path} is a copy of the public demo's ${kind} file, refused in production`);
    }
  }
  const hashes = new Set<string>(DEMO_FINGERPRINTS.passwordHashes);
  for (const user of input.users ?? []) {
    const demoPassword = DEMO_PASSWORDS[user.username];
    if (hashes.has(sha256(user.record.passwordHash))) {
      problems.push(
        `USERS_FILE: user ${user.username} has a password hash of the public demo; set a new password`,
      );
    } else if (demoPassword && (await verifyPassword(user.record.passwordHash, demoPassword))) {
      problems.push(`USERS_FILE: user ${user.username} has the public demo's password; set a new password`);
    }
  }
  const secrets = new Set<string>(DEMO_FINGERPRINTS.clientSecrets);
  for (const client of input.clients ?? []) {
    if (typeof client.client_secret === 'string' && secrets.has(sha256(client.client_secret))) {
      problems.push(
        `CLIENTS_FILE: client ${client.client_id} has a public demo secret; set a secret of its own`,
      );
    }
  }
  return problems;
}

function isInsideDemo(path: string): boolean {
  const demo = realOrResolved(DEMO_DIRECTORY);
  const file = realOrResolved(path);
  const rel = relative(demo, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function fingerprintOf(path: string): string | undefined {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
}
