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

  it('is not shipped in the Docker image; compose mounts it for the demo only', () => {
    const root = join(DEMO_DIRECTORY, '..', '..');
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).not.toMatch(/^COPY[ \t]+(\S+[ \t]+)*config\b/m);
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('- ./config/demo:/app/config/demo:ro');
  });
});
