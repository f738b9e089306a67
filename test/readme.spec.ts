import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { ShutdownConfig } from '@cloakroom/config';
import { OpsConfig, TracingConfig } from '@cloakroom/ops';
import { StoreConfig } from '@cloakroom/sealed-store';
// @ts-expect-error plain ESM script without types
import { SETTINGS_TABLES, renderTable } from '../scripts/settings-tables.mjs';
import { AuthorizationServerConfig } from '../apps/authorization-server/src/authorization-server.config.js';
import { AccountsConfig } from '../apps/authorization-server/src/accounts/accounts.config.js';
import { GatewayConfig } from '../apps/gateway/src/gateway.config.js';
import { DemoApiConfig } from '../apps/demo-api/src/demo-api.config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Every file under a directory of the repository, as a path from the repository's root. */
const root = fileURLToPath(new URL('..', import.meta.url));
const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((path) => !path.includes('node_modules/') && !path.includes('/dist/'));

// The sources of the tables (the script reads the same classes from the build output).
const SCHEMAS: Record<string, abstract new () => object> = {
  store: StoreConfig,
  shutdown: ShutdownConfig,
  management: OpsConfig,
  traces: TracingConfig,
  'authorization-server': AuthorizationServerConfig,
  accounts: AccountsConfig,
  gateway: GatewayConfig,
  'demo-api': DemoApiConfig,
};

type Table = { title: string; inherited?: boolean; until?: abstract new () => object };

describe('README', () => {
  it('has a settings table for every settings class', () => {
    expect((SETTINGS_TABLES as Table[]).map((t) => t.title).sort()).toEqual(Object.keys(SCHEMAS).sort());
  });

  it.each((SETTINGS_TABLES as Table[]).map((t) => [t.title, t]))(
    'documents every %s setting as the schema does (regenerate with `npm run build && npm run config:docs`)',
    (title, table) => {
      const section = readme.match(
        new RegExp(`<!-- settings: ${title} -->\\n([\\s\\S]*?)\\n<!-- /settings: ${title} -->`),
      );
      expect(section?.[1]).toBe(renderTable(SCHEMAS[title as string], table));
    },
  );

  it('shows user management on a file of its own, never on the demo users', () => {
    const examples = [...readme.matchAll(/cloakroom -- users set ([^`]*)/g)].map((match) => match[1]);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      expect(example).not.toMatch(/^(alice|power-user)\b/);
      expect(example).toMatch(/--file config\/(?!demo\/)\S+\.yaml/);
    }
  });

  it('keeps every test helper in test/support, as the layout table says', () => {
    expect(readme).toMatch(/\| `test\/` \|[^\n]*`test\/support` is the home of every test helper/);
    const helpersElsewhere = filesUnder('test').filter(
      (path) =>
        path.endsWith('.ts') &&
        !path.endsWith('.spec.ts') &&
        !path.startsWith('test/support/') &&
        !path.startsWith('test/security/hostile/'),
    );
    const sourcesForTests = ['apps', 'libs']
      .flatMap((dir) => filesUnder(dir))
      .filter(
        (path) =>
          /^(apps|libs)\/[^/]+\/src\/(.*\/)?(testing|fixtures)\//.test(path) || path.endsWith('.fixture.ts'),
      );
    expect(helpersElsewhere).toEqual([]);
    expect(sourcesForTests).toEqual([]);
  });
});
