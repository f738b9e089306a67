import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ShutdownConfig } from '@cloakroom/config';
import { StoreConfig } from '@cloakroom/sealed-store';
// @ts-expect-error plain ESM script without types
import { SETTINGS_TABLES, renderTable } from '../scripts/settings-tables.mjs';
import { AuthorizationServerConfig } from '../apps/authorization-server/src/authorization-server.config.js';
import { AccountsConfig } from '../apps/authorization-server/src/accounts/accounts.config.js';
import { GatewayConfig } from '../apps/gateway/src/gateway.config.js';
import { DemoApiConfig } from '../apps/demo-api/src/demo-api.config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

// The sources of the tables (the script reads the same classes from the build output).
const SCHEMAS: Record<string, abstract new () => object> = {
  store: StoreConfig,
  shutdown: ShutdownConfig,
  'authorization-server': AuthorizationServerConfig,
  accounts: AccountsConfig,
  gateway: GatewayConfig,
  'demo-api': DemoApiConfig,
};

type Table = { title: string; inherited?: boolean };

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
});
