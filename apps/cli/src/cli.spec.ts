import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const exec = promisify(execFile);
const key = new TextEncoder().encode('k'.repeat(32));
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('user-1').sign(key);

/** Runs a command to its end: exit code and output, whatever the code. */
async function spawn(
  file: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, [file, ...args], { cwd: root }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

describe('cloakroom binary', () => {
  it('runs as a process, through the command npm links and the built entry point, with the exit code of the verdict', async () => {
    await exec(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'apps/cli'], { cwd: root });
    const token = await sign({ groups: Array.from({ length: 700 }, (_, i) => `team-${i}`) });
    for (const entry of ['apps/cli/bin/cloakroom.js', 'apps/cli/dist/main.js']) {
      const over = await spawn(entry, ['budget', token]);
      expect(over.code).toBe(1);
      expect(over.stdout).toContain('Exceeds 3 limits.');
      const ok = await spawn(entry, ['budget', await sign({})]);
      expect(ok).toMatchObject({ code: 0, stderr: '' });
      expect(ok.stdout).toContain('Fits every limit.');
      expect(await spawn(entry, ['keys', 'list'])).toMatchObject({ code: 2 });
    }
  }, 30000);

  it('links a command file that is in the repository, so that npm links it before anything is built', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'apps/cli/package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(Object.keys(manifest.bin)).toEqual(['cloakroom']);
    const tracked = execFileSync(
      'git',
      ['ls-files', '--error-unmatch', `apps/cli/${manifest.bin.cloakroom}`],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(tracked.trim()).toBe('apps/cli/bin/cloakroom.js');
    expect(statSync(join(root, 'apps/cli/bin/cloakroom.js')).mode & 0o111).not.toBe(0);
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object })
      .scripts;
    expect(scripts).toMatchObject({ cloakroom: 'node apps/cli/bin/cloakroom.js' });
  });

  it('says in one sentence that it is not built yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloakroom-unbuilt-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(join(root, 'apps/cli/bin/cloakroom.js'), join(dir, 'bin/cloakroom.js'));
      expect(existsSync(join(dir, 'dist'))).toBe(false);
      const result = await spawn(join(dir, 'bin/cloakroom.js'), ['help']);
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: 'cloakroom is not built: run `npm run build` first.\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('keeps key files and private configuration out of git, the demo configuration in', () => {
  const ignored = (path: string) => {
    try {
      execFileSync('git', ['check-ignore', '-q', path], { stdio: 'ignore', cwd: root });
      return true;
    } catch {
      return false;
    }
  };
  expect(ignored('keys/jwks.json')).toBe(true);
  expect(ignored('config/users.yaml')).toBe(true);
  expect(ignored('config/production/clients.yaml')).toBe(true);
  expect(ignored('config/demo/users.yaml')).toBe(false);
});
