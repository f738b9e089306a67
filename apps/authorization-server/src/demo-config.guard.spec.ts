import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { DEMO_DIRECTORY, DEMO_FINGERPRINTS, demoConfigRefusals, sha256 } from './demo-config.guard.js';

describe(demoConfigRefusals.name, () => {
  it('knows the fingerprints of what config/demo publishes today', () => {
    const read = (name: string) => readFileSync(join(DEMO_DIRECTORY, `${name}.yaml`), 'utf8');
    for (const kind of ['users', 'clients', 'resources'] as const) {
      expect(sha256(read(kind))).toBe(DEMO_FINGERPRINTS.files[kind]);
    }
    const users = Object.values(parse(read('users')).users as Record<string, { passwordHash: string }>);
    expect(users.map((user) => sha256(user.passwordHash)).sort()).toEqual(
      [...DEMO_FINGERPRINTS.passwordHashes].sort(),
    );
    const defaults = [...read('clients').matchAll(/client_secret: \$\{[A-Z_]+:-([^}]+)\}/g)].map((match) =>
      sha256(match[1]),
    );
    expect(defaults.sort()).toEqual([...DEMO_FINGERPRINTS.clientSecrets].sort());
  });

  it('refuses a path into the demo directory however it is spelt', async () => {
    const refusals = await demoConfigRefusals({
      files: [{ setting: 'USERS_FILE', kind: 'users', path: './config/../config/demo/users.yaml' }],
    });
    expect(refusals).toEqual([
      "USERS_FILE: ./config/../config/demo/users.yaml is the public demo's users file, refused in production; set USERS_FILE",
    ]);
  });
});
