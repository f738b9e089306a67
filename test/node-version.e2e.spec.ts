import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isTooOld, MINIMUM_NODE } from '@cloakroom/config/node-version';

// Every entry point, run by a Node.js older than the minimum, answers with one sentence and exit code 1.
// The older Node is the system's own (CI machines carry Node 20); where none is older, there is nothing to run.
const entryPoints = [
  'apps/authorization-server/dist/main.js',
  'apps/authorization-server/dist/cli/main.js',
  'apps/gateway/dist/main.js',
  'apps/demo-api/dist/main.js',
  'apps/cli/dist/main.js',
  'scripts/start-stack.mjs',
];

function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (version && isTooOld(version)) return { path, version };
  }
  return undefined;
}

const older = olderNode();
const built = entryPoints.every((file) => existsSync(file));

describe('entry points on an older Node.js', () => {
  (older && built ? it.each(entryPoints) : it.skip.each(entryPoints))(
    '%s refuses in one sentence',
    (file) => {
      const run = spawnSync(older!.path, [file, '--help'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
        timeout: 15_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`needs Node.js ${MINIMUM_NODE} or newer`);
      expect(run.stderr).toContain(`this is Node.js ${older!.version}`);
    },
  );
});
