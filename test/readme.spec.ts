import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error plain ESM script without types
import { SETTINGS_TABLES, renderTable } from '../scripts/settings-tables.mjs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each(SETTINGS_TABLES.map((t: { title: string }) => [t.title, t]))(
    'documents every %s setting as the schema does (regenerate with `npm run config:docs`)',
    async (_title, table) => {
      const { title, load } = table as unknown as {
        title: string;
        load: () => Promise<abstract new () => object>;
      };
      const section = readme.match(
        new RegExp(`<!-- settings: ${title} -->\\n([\\s\\S]*?)\\n<!-- /settings: ${title} -->`),
      );
      expect(section?.[1]).toBe(renderTable(await load()));
    },
  );
});
