import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ResourcesFileInvalid, loadResources } from './resources.js';

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-resources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe(loadResources.name, () => {
  it('loads resource servers with their defaults', () => {
    const path = write('ok.yaml', 'resources:\n  - indicator: https://api.example\n    groupsClaim: true\n');
    const api = loadResources(path).get('https://api.example');
    expect(api).toMatchObject({ accessTokenFormat: 'jwt', groupsClaim: true, scopes: [] });
  });

  it('refuses a key it does not know, naming the key and the file, instead of loading the default', () => {
    const path = write(
      'misspelt.yaml',
      'resources:\n  - indicator: https://api.example\n    groups_claim: true\nextra: 1\n',
    );
    let error: unknown;
    try {
      loadResources(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResourcesFileInvalid);
    const message = (error as Error).message;
    expect(message).toContain(`invalid resources file ${path}`);
    expect(message).toContain('resources[0].groups_claim: unknown field');
    expect(message).toContain('extra: unknown field');
  });

  it('names unreadable, unparsable and duplicate entries', () => {
    expect(() => loadResources(join(dir, 'missing.yaml'))).toThrow(/cannot be read: ENOENT/);
    expect(() => loadResources(write('bad.yaml', 'resources: [unclosed'))).toThrow(/cannot be parsed/);
    expect(() => loadResources(write('list.yaml', '- a\n'))).toThrow(/must be a mapping/);
    const twice = write(
      'twice.yaml',
      'resources:\n  - indicator: https://a.example\n  - indicator: https://a.example\n',
    );
    expect(() => loadResources(twice)).toThrow(/https:\/\/a.example is listed twice/);
  });
});
