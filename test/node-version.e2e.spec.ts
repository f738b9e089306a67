import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isTooOld, MINIMUM_NODE } from '@cloakroom/config/node-version';

// Every entry point, run by a Node.js older than the minimum, answers with one sentence and exit code 1. The older
// Node is the system's own where it has one (CI machines carry Node 20); elsewhere this Node, told by a preloaded
// module to report 22.12.0, the release a new user met undici's failure on.
const entryPoints = [
  'apps/authorization-server/dist/main.js',
  'apps/gateway/dist/main.js',
  'apps/demo-api/dist/main.js',
  // `cloakroom`: the command npm links (also `npm run cloakroom`), and the built entry point it runs.
  'apps/cli/bin/cloakroom.js',
  'apps/cli/dist/main.js',
  'scripts/start-stack.mjs',
];

const PRETEND_OLD = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"22.12.0"})';

function olderNode(): { path: string; args: string[]; version: string } {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (version && isTooOld(version)) return { path, args: [], version };
  }
  return { path: process.execPath, args: ['--import', PRETEND_OLD], version: '22.12.0' };
}

describe('entry points on an older Node.js', () => {
  const older = olderNode();

  it.each(entryPoints)('%s refuses in one sentence', (file) => {
    expect(existsSync(file)).toBe(true); // built by `npm run build` before the tests
    const run = spawnSync(older.path, [...older.args, file, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      timeout: 15_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`needs Node.js ${MINIMUM_NODE} or newer`);
    expect(run.stderr).toContain(`this is Node.js ${older.version}`);
  });
});
